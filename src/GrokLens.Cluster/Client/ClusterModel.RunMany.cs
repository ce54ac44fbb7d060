using System.Collections.Concurrent;
using GrokLens.Cluster.Grains;
using GrokLens.Engine;

namespace GrokLens.Cluster;

public sealed partial class ClusterModel
{
    /// <summary>
    /// Runs prompts on every pipeline replica at once and yields the results in the order given. Progress is kept in a
    /// batch grain (grain storage), which <c>groklens cluster status</c> lists. A prompt whose replica fails (its silo
    /// died) goes back to the queue and runs on another replica; the replica is used again once the cluster has placed
    /// its shards on silos that are up. Each prompt's result is yielded exactly once.
    /// </summary>
    public IEnumerable<RunResult> RunMany(IEnumerable<IReadOnlyList<int>> prompts, RunOptions options, CancellationToken cancellation = default)
    {
        var list = prompts.ToList();
        foreach (var prompt in list) CheckSequence(prompt);
        var plan = Plan(options);
        return list.Count == 0 ? [] : new BatchRun(this, list, plan, cancellation).Results();
    }

    /// <summary>One <see cref="RunMany"/>: a queue of prompt indices served by one worker per usable pipeline replica.</summary>
    private sealed class BatchRun(ClusterModel model, IReadOnlyList<IReadOnlyList<int>> prompts, RunPlan plan, CancellationToken cancellation)
    {
        private readonly object gate = new();
        private readonly SortedSet<int> queue = new(Enumerable.Range(0, prompts.Count));
        private readonly Dictionary<int, RunResult> finished = new();
        private readonly int[] attempts = new int[prompts.Count];
        private readonly IBatchJobGrain job = model.client.GetGrain<IBatchJobGrain>($"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}"[..24]);
        private Exception? fatal;
        private int yielded;
        private bool replicaFailed;

        public IEnumerable<RunResult> Results()
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            Record(() => job.Start($"{model.Name}: {prompts.Count} prompts from {model.clientId}", prompts.Count)).GetAwaiter().GetResult();
            var supervisor = Task.Run(() => Supervise(stop.Token), CancellationToken.None);
            string outcome = "cancelled";
            try
            {
                for (int index = 0; index < prompts.Count; index++)
                {
                    RunResult result;
                    lock (gate)
                    {
                        while (!finished.ContainsKey(index) && fatal is null) Monitor.Wait(gate, 250);
                        if (fatal is not null && !finished.ContainsKey(index)) throw fatal;
                        result = finished[index];
                        finished.Remove(index);
                        yielded = index + 1;
                        Monitor.PulseAll(gate);
                    }
                    yield return result;
                }
                outcome = "done";
            }
            finally
            {
                stop.Cancel();
                try
                {
                    supervisor.GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                }
                lock (gate)
                {
                    foreach (var result in finished.Values) result.Dispose();
                    finished.Clear();
                    if (fatal is not null) outcome = $"failed: {fatal.Message}";
                }
                // Awaited, so that the batch's record is final when the caller sees the last result.
                var received = Enumerable.Range(0, yielded).ToArray();
                for (int attempt = 0; attempt < 3 && !Record(() => job.Finished(outcome, received)).GetAwaiter().GetResult(); attempt++)
                {
                }
            }
        }

        /// <summary>Keeps one worker on each usable replica until every prompt is done, re-reading the layout after failures.</summary>
        private async Task Supervise(CancellationToken stop)
        {
            var workers = new Dictionary<int, Task>();
            var noReplicaSince = DateTime.MaxValue;
            while (!stop.IsCancellationRequested)
            {
                lock (gate)
                    if (fatal is not null || (queue.Count == 0 && workers.Count == 0)) return;
                foreach (var (replica, task) in workers.Where(w => w.Value.IsCompleted).ToList()) workers.Remove(replica);
                try
                {
                    bool refresh;
                    lock (gate)
                    {
                        refresh = replicaFailed;
                        replicaFailed = false;
                    }
                    if (refresh)
                    {
                        // Give the membership a moment, then use the silos that are up (never those seen lost).
                        await Task.Delay(model.options.WatchInterval, stop).ConfigureAwait(false);
                        await model.RefreshLayoutAsync(model.lostSilos.Keys).ConfigureAwait(false);
                    }
                    for (int replica = 0; replica < model.layout.Replicas; replica++)
                        if (!workers.ContainsKey(replica)) workers[replica] = Work(replica, stop);
                    noReplicaSince = DateTime.MaxValue;
                }
                catch (UnknownModelException e)
                {
                    // Every silo holding some layers is gone: wait a while for one to come back.
                    if (noReplicaSince == DateTime.MaxValue) noReplicaSince = DateTime.UtcNow;
                    if (DateTime.UtcNow - noReplicaSince > model.options.DeathWait * 6) Fail(e);
                }
                await Task.WhenAny(workers.Values.Append(Task.Delay(model.options.WatchInterval, stop))).ConfigureAwait(false);
            }
        }

        /// <summary>Runs queued prompts on one replica until the queue is empty or the replica fails.</summary>
        private async Task Work(int replica, CancellationToken stop)
        {
            var shards = model.layout.Pipeline(replica);
            string name = string.Join(" → ", shards.Select(s => s.ToString()));
            while (!stop.IsCancellationRequested)
            {
                int index;
                lock (gate)
                {
                    // Keep at most a few results waiting ahead of the reader, so memory stays bounded.
                    while (queue.Count > 0 && queue.Min >= yielded + 2 * model.layout.Replicas + 2 && !stop.IsCancellationRequested)
                        Monitor.Wait(gate, 250);
                    if (queue.Count == 0 || stop.IsCancellationRequested) return;
                    index = queue.Min;
                    queue.Remove(index);
                    attempts[index]++;
                }
                try
                {
                    await Record(() => job.Assigned(index, name)).ConfigureAwait(false);
                    var result = await model.RunOnPipeline(replica, prompts[index], plan, stop).ConfigureAwait(false);
                    lock (gate)
                    {
                        finished[index] = result;
                        Monitor.PulseAll(gate);
                    }
                    _ = Record(() => job.Completed(index)); // Progress only; Finished records the final set.
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (IsClusterFault(e))
                {
                    lock (gate)
                    {
                        if (attempts[index] >= model.options.MaxAttempts)
                        {
                            Fail(new ClusterUnavailableException($"Prompt {index} failed {attempts[index]} times; last: {e.Message}", e));
                            return;
                        }
                        queue.Add(index);
                        replicaFailed = true;
                        Monitor.PulseAll(gate);
                    }
                    await Record(() => job.Requeued(index, e.Message)).ConfigureAwait(false);
                    return; // This replica is broken; the supervisor re-reads the layout.
                }
                catch (Exception e)
                {
                    Fail(e); // A bad request fails everywhere: stop the batch.
                    return;
                }
            }
        }

        /// <summary>
        /// Records progress in the batch grain. Best effort: while the silo holding the grain is being replaced the call
        /// may fail or go unanswered; the grain comes back from storage and the next record lands.
        /// </summary>
        private async Task<bool> Record(Func<Task> call)
        {
            try
            {
                await call().WaitAsync(model.options.ControlTimeout).ConfigureAwait(false);
                return true;
            }
            catch (Exception e) when (e is TimeoutException || IsClusterFault(e) || e is OrleansException)
            {
                return false;
            }
        }

        private void Fail(Exception e)
        {
            lock (gate)
            {
                fatal ??= e;
                Monitor.PulseAll(gate);
            }
        }
    }
}
