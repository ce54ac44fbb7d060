using GrokLens.Web.Models;

namespace GrokLens.Web.Tests;

/// <summary>
/// Turns in a model's queue that a test holds until it releases them: whatever queues behind a held turn waits, so a test
/// can look at a page while its work is queued (its place shown) or between two tokens of a generation, without timing
/// anything. Disposing releases every turn still held, so a failing test never leaves the queue blocked.
/// </summary>
public sealed class HeldTurns(ModelLease lease) : IAsyncDisposable
{
    /// <summary>Longest wait for a turn to start: far more than any queue here takes, short of hanging a test run.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private readonly List<Turn> turns = [];

    /// <summary>Queues a turn and returns at once (the turn is in the queue, not necessarily running).</summary>
    public Turn Queue()
    {
        var turn = new Turn(lease);
        lock (turns) turns.Add(turn);
        return turn;
    }

    /// <summary>Queues a turn and returns once it runs: everything queued later waits behind it.</summary>
    public async Task<Turn> HoldAsync()
    {
        var turn = Queue();
        await turn.Started.WaitAsync(Patience);
        return turn;
    }

    public async ValueTask DisposeAsync()
    {
        List<Turn> all;
        lock (turns) all = [.. turns];
        foreach (var turn in all) turn.Release();
        await Task.WhenAll(all.Select(t => t.Ended)).WaitAsync(Patience);
    }

    public sealed class Turn
    {
        private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Turn(ModelLease lease) =>
            Ended = lease.RunAsync(_ =>
            {
                started.TrySetResult();
                release.Task.Wait();
                return 0;
            });

        /// <summary>Completes once the turn runs.</summary>
        public Task Started => started.Task;

        /// <summary>Completes once the turn has ended.</summary>
        public Task Ended { get; }

        public void Release() => release.TrySetResult();

        /// <summary>Ends the turn; the next queued work runs.</summary>
        public async Task ReleaseAsync()
        {
            Release();
            await Ended.WaitAsync(Patience);
        }
    }
}
