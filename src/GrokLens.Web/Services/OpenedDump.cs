using GrokLens.Dumps;
using GrokLens.Hooks;
using GrokLens.Web.Views;

namespace GrokLens.Web.Services;

/// <summary>
/// A dump opened in a session: the run the Explore views show (<see cref="Run"/>, its arrays in <see cref="Result"/>), and
/// the reader kept open for the histogram (any hook the dump holds), for showing another of its runs and for comparing
/// its runs. Dispose to unmap its files and delete an upload's extraction.
/// </summary>
public sealed class OpenedDump : IDisposable
{
    private DumpReader? reader;

    public OpenedDump(string name, DumpReader reader, DumpRun run, ExploreResult result)
    {
        Name = name;
        this.reader = reader;
        Run = run;
        Result = result;
    }

    public string Name { get; }
    public DumpRun Run { get; }
    public ExploreResult Result { get; }
    public IReadOnlyList<string> HookNames => Run.Hooks.Select(h => h.Name).ToList();

    /// <summary>Every run of the dump, in manifest order.</summary>
    public IReadOnlyList<DumpRun> Runs => Reader.Runs;

    public DumpManifest Manifest => Reader.Manifest;

    /// <summary>The model config the dump records.</summary>
    public Model.GrokConfig Config => Reader.Config;

    private DumpReader Reader => reader ?? throw new ObjectDisposedException(nameof(OpenedDump), $"The dump '{Name}' was closed.");

    /// <summary>The values of one of the dump's hooks (flattened), read from the dump, never from the model.</summary>
    public float[] HookValues(string hook)
    {
        var entry = Run.Hooks.FirstOrDefault(h => h.Name == hook)
                    ?? throw new ArgumentException($"The dump '{Name}' holds no hook '{hook}'.");
        using var tensor = Reader.Load(entry);
        using var values = tensor.to_type(TorchSharp.torch.ScalarType.Float32).flatten();
        return values.data<float>().ToArray();
    }

    /// <summary>A run's hooks, their expert indices checked (<see cref="DumpViewCheck"/>) before any view reads them.</summary>
    public ActivationCache LoadCache(DumpRun run) => LoadCache(Reader, run, Name);

    internal static ActivationCache LoadCache(DumpReader reader, DumpRun run, string name)
    {
        var cache = reader.LoadCache(run);
        try
        {
            DumpViewCheck.Check(cache, reader.Config, name);
            return cache;
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>The same dump showing another of its runs; the reader moves to the returned object (this one no longer owns it).</summary>
    public OpenedDump HandOver(DumpRun run, ExploreResult result)
    {
        var next = new OpenedDump(Name, Reader, run, result);
        reader = null;
        return next;
    }

    public void Dispose()
    {
        reader?.Dispose();
        reader = null;
    }
}
