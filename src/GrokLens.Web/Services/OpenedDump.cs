using GrokLens.Dumps;
using GrokLens.Web.Views;

namespace GrokLens.Web.Services;

/// <summary>
/// A dump opened in a session: the views' arrays built from it, and the reader kept open for the histogram (any hook the
/// dump holds). Dispose to unmap its files and delete an upload's extraction.
/// </summary>
public sealed class OpenedDump(string name, DumpReader reader, DumpRun run, ExploreResult result) : IDisposable
{
    public string Name { get; } = name;
    public DumpRun Run { get; } = run;
    public ExploreResult Result { get; } = result;
    public IReadOnlyList<string> HookNames { get; } = run.Hooks.Select(h => h.Name).ToList();

    /// <summary>The values of one of the dump's hooks (flattened), read from the dump, never from the model.</summary>
    public float[] HookValues(string hook)
    {
        var entry = Run.Hooks.FirstOrDefault(h => h.Name == hook)
                    ?? throw new ArgumentException($"The dump '{Name}' holds no hook '{hook}'.");
        using var tensor = reader.Load(entry);
        using var values = tensor.to_type(TorchSharp.torch.ScalarType.Float32).flatten();
        return values.data<float>().ToArray();
    }

    public void Dispose() => reader.Dispose();
}
