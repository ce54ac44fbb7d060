using System.Collections.Concurrent;
using GrokLens.Web.Models;

namespace GrokLens.Web.Tests.Models;

/// <summary>The server's queue: arrival order, one piece of work per model, compute slots across models, places, cancellation.</summary>
public sealed class ComputeQueueTests
{
    private readonly object modelA = new(), modelB = new();

    /// <summary>Enters the queue and records each place it hears.</summary>
    private static (Task<IDisposable> Turn, ConcurrentQueue<int> Places) Enter(ComputeQueue queue, object model, CancellationToken cancellation = default)
    {
        var places = new ConcurrentQueue<int>();
        return (queue.EnterAsync(model, places.Enqueue, cancellation), places);
    }

    [Fact]
    public async Task WorkOnOneModelRunsOneAtATimeInArrivalOrderAndHearsItsPlace()
    {
        var queue = new ComputeQueue(slots: 4);
        var first = await queue.EnterAsync(modelA);
        var (second, secondPlaces) = Enter(queue, modelA);
        var (third, thirdPlaces) = Enter(queue, modelA);
        Assert.False(second.IsCompleted);
        Assert.Equal([1], secondPlaces);
        Assert.Equal([2], thirdPlaces);

        first.Dispose();
        using (await second) { }
        Assert.Equal([2, 1], thirdPlaces);   // moved up when the first left, then ran after the second
        (await third).Dispose();
        Assert.Equal(0, queue.WaitingFor(modelA));
    }

    [Fact]
    public async Task DifferentModelsRunTogetherOnlyWhenASlotIsFree()
    {
        var two = new ComputeQueue(slots: 2);
        using (await two.EnterAsync(modelA))
        using (await two.EnterAsync(modelB)) { } // both at once: two slots

        var one = new ComputeQueue(slots: 1);
        var a = await one.EnterAsync(modelA);
        var (b, places) = Enter(one, modelB);
        Assert.False(b.IsCompleted);          // model B is free, but the only slot is taken
        Assert.Equal([1], places);
        a.Dispose();
        (await b).Dispose();
    }

    [Fact]
    public async Task ACancelledWaiterLeavesTheQueueAndTheOthersMoveUp()
    {
        var queue = new ComputeQueue(slots: 1);
        var running = await queue.EnterAsync(modelA);
        using var cancel = new CancellationTokenSource();
        var (cancelled, _) = Enter(queue, modelA, cancel.Token);
        var (behind, behindPlaces) = Enter(queue, modelB);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal([2, 1], behindPlaces);
        Assert.Equal(0, queue.WaitingFor(modelA));
        running.Dispose();
        (await behind).Dispose();
    }

    [Fact]
    public void SlotsAreAtLeastOne() => Assert.Throws<ArgumentOutOfRangeException>(() => new ComputeQueue(0));
}
