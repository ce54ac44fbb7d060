using GrokLens.Engine;
using GrokLens.Generation;

namespace GrokLens.Web.Models;

/// <summary>
/// Keeps a model resident while a run, generation, histogram, comparison or download uses it: the registry never unloads
/// a leased model. The lease also carries where its work reports waits (the session's queue place). Dispose it when the
/// work ends.
/// </summary>
public sealed class ModelLease : IDisposable
{
    private readonly Action release;
    private int released;

    internal ModelLease(IWorkbenchModel model, Action release, IProgress<ModelWait>? wait)
    {
        Model = model;
        this.release = release;
        Wait = wait;
    }

    public IWorkbenchModel Model { get; }
    public IProgress<ModelWait>? Wait { get; }

    public Task<T> RunAsync<T>(Func<IModelEngine, T> work, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(released != 0, this);
        return Model.RunAsync(work, Wait, cancellation);
    }

    public IAsyncEnumerable<GeneratedToken> GenerateAsync(IReadOnlyList<int> prompt, SamplingOptions sampling, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(released != 0, this);
        return Model.GenerateAsync(prompt, sampling, Wait, cancellation);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref released, 1) == 0) release();
    }
}
