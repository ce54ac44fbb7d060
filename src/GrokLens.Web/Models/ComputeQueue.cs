namespace GrokLens.Web.Models;

/// <summary>
/// The server's one queue for model work. Work enters in arrival order and runs when its model is free (one forward
/// pass at a time per model: a model's modules and streamed weights are not safe for concurrent use) and a compute slot is
/// free. Slots bound how many models compute at once: every forward pass already spreads over all cores through
/// libtorch's intra-op threads, so by default there are ⌊cores / libtorch threads⌋ slots (one on a 2-core machine, where
/// a second pass at the same time would only share the same cores). Waiting work hears its place whenever it changes.
/// </summary>
public sealed class ComputeQueue
{
    private readonly object gate = new();
    private readonly LinkedList<Waiter> waiting = new();
    private readonly HashSet<object> running = [];
    private int runningCount;

    public ComputeQueue(int slots)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots), "at least one compute slot.");
        Slots = slots;
    }

    public int Slots { get; }

    /// <summary>Default slots for this machine: cores divided by libtorch's intra-op threads, at least one.</summary>
    public static int DefaultSlots() => Math.Max(1, Environment.ProcessorCount / Math.Max(1, TorchSharp.torch.get_num_threads()));

    /// <summary>Items queued (not yet running) for a model.</summary>
    public int WaitingFor(object model)
    {
        lock (gate) return waiting.Count(w => w.Model == model);
    }

    /// <summary>
    /// Waits for the turn of one piece of work on <paramref name="model"/>; dispose the returned turn when the work ends.
    /// <paramref name="place"/> hears the number of items ahead while waiting. Cancelling while queued leaves the queue.
    /// </summary>
    public async Task<IDisposable> EnterAsync(object model, Action<int>? place = null, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        var waiter = new Waiter(model, place);
        lock (gate) waiting.AddLast(waiter);
        Pump();
        await using (cancellation.Register(() => Leave(waiter)))
            await waiter.Started.Task.ConfigureAwait(false);
        return new Turn(this, model);
    }

    private void Leave(Waiter waiter)
    {
        bool removed;
        lock (gate) removed = waiting.Remove(waiter);
        if (!removed) return; // it started already: the caller ends its turn as usual
        waiter.Started.TrySetCanceled();
        Pump();
    }

    private void Exit(object model)
    {
        lock (gate)
        {
            running.Remove(model);
            runningCount--;
        }
        Pump();
    }

    /// <summary>Starts every waiter that may run now (in arrival order), then tells the others their place.</summary>
    private void Pump()
    {
        var started = new List<Waiter>();
        var places = new List<(Action<int> Report, int Ahead)>();
        lock (gate)
        {
            for (var node = waiting.First; node is not null && runningCount < Slots;)
            {
                var next = node.Next;
                if (running.Add(node.Value.Model))
                {
                    runningCount++;
                    started.Add(node.Value);
                    waiting.Remove(node);
                }
                node = next;
            }
            int ahead = runningCount;
            foreach (var waiter in waiting)
            {
                if (waiter.Place is { } report && waiter.LastPlace != ahead)
                {
                    waiter.LastPlace = ahead;
                    places.Add((report, ahead));
                }
                ahead++;
            }
        }
        foreach (var waiter in started) waiter.Started.TrySetResult();
        foreach (var (report, ahead) in places) report(ahead);
    }

    private sealed class Waiter(object model, Action<int>? place)
    {
        public object Model { get; } = model;
        public Action<int>? Place { get; } = place;
        public int LastPlace { get; set; } = -1;
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Turn(ComputeQueue queue, object model) : IDisposable
    {
        private int ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref ended, 1) == 0) queue.Exit(model);
        }
    }
}
