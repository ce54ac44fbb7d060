using GrokLens.Web.Models;

namespace GrokLens.Web.Tests;

/// <summary>
/// Holds a model's turn in the server's queue until released: whatever queues behind it waits, so a test can look at a
/// page while its work is queued (its place shown) or between two tokens of a generation, without timing anything.
/// </summary>
public sealed class ModelTurn : IAsyncDisposable
{
    private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim release = new();
    private readonly Task<int> work;

    private ModelTurn(ModelLease lease) =>
        work = lease.RunAsync(_ =>
        {
            started.SetResult();
            release.Wait();
            return 0;
        });

    /// <summary>Queues a turn on the leased model and returns once it is queued (not necessarily running).</summary>
    public static ModelTurn Queue(ModelLease lease) => new(lease);

    /// <summary>Queues a turn and returns once it runs (everything queued later waits behind it).</summary>
    public static async Task<ModelTurn> HoldAsync(ModelLease lease)
    {
        var turn = new ModelTurn(lease);
        await turn.Started;
        return turn;
    }

    /// <summary>Completes once the turn runs.</summary>
    public Task Started => started.Task;

    /// <summary>Ends the turn; the next queued work runs.</summary>
    public async Task ReleaseAsync()
    {
        release.Set();
        await work;
    }

    public async ValueTask DisposeAsync()
    {
        release.Set();
        await work;
        release.Dispose();
    }
}
