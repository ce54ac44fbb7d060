using System.Collections.Concurrent;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Model;

namespace GrokLens.Cluster.Hosting;

/// <summary>
/// Layers of one model loaded in this silo (today's loader with <see cref="LoadOptions.Layers"/>: int8, streaming and
/// device maps apply). Shards of these layers run on it one forward call at a time, on one thread of its own.
/// </summary>
public sealed class HostedModel : IDisposable
{
    private readonly BlockingCollection<Action> work = new();
    private readonly Thread worker;

    public HostedModel(string name, LayerRange layers, LoadedModel loaded, string folder)
    {
        Name = name;
        Layers = layers;
        Loaded = loaded;
        Folder = folder;
        // One long-lived thread runs every forward call: libtorch's OpenMP team belongs to the thread that starts a
        // parallel region, so a thread-pool thread per call would wake (or create) a different team each time.
        worker = new Thread(() =>
        {
            foreach (var action in work.GetConsumingEnumerable()) action();
        }) { IsBackground = true, Name = $"{name} layers {layers}" };
        worker.Start();
    }

    public string Name { get; }
    public LayerRange Layers { get; }
    public LoadedModel Loaded { get; }
    public GrokModel Model => Loaded.Model;
    public GrokConfig Config => Loaded.Config;

    /// <summary>The model folder (config, tokenizer files, weights).</summary>
    public string Folder { get; }

    public long WeightBytes => Loaded.WeightBytesByDevice.Values.Sum();

    /// <summary>Runs <paramref name="function"/> on the model's thread after the calls queued before it.</summary>
    public Task<T> Run<T>(Func<T> function)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(() =>
        {
            try
            {
                result.SetResult(function());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        });
        return result.Task;
    }

    public void Dispose()
    {
        work.CompleteAdding();
        worker.Join();
        work.Dispose();
        Loaded.Dispose();
    }
}
