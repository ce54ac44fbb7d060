using Orleans.Runtime;

namespace GrokLens.Cluster.Grains;

/// <summary>Keeps a batch's progress in the "groklens" grain storage: which prompts are done, which in flight where.</summary>
public sealed class BatchJobGrain([PersistentState("batch", ClusterNames.Storage)] IPersistentState<BatchJobState> state)
    : Grain, IBatchJobGrain
{
    public async Task Start(string description, int total)
    {
        state.State = new BatchJobState { Description = description, Total = total, StartedUtc = DateTime.UtcNow, UpdatedUtc = DateTime.UtcNow };
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IBatchRegistryGrain>(0).Add(this.GetPrimaryKeyString());
    }

    public Task Assigned(int prompt, string pipeline)
    {
        state.State.InFlight[prompt] = pipeline;
        return Save();
    }

    public Task Completed(int prompt)
    {
        MarkCompleted(prompt);
        return Save();
    }

    public Task Requeued(int prompt, string reason)
    {
        state.State.InFlight.Remove(prompt);
        state.State.Requeued++;
        state.State.LastRequeueReason = reason;
        return Save();
    }

    public Task Finished(string outcome, int[] completed)
    {
        foreach (var prompt in completed) MarkCompleted(prompt);
        state.State.Outcome = outcome;
        state.State.InFlight.Clear();
        return Save();
    }

    public Task<BatchJobState> State() => Task.FromResult(state.State);

    private void MarkCompleted(int prompt)
    {
        state.State.InFlight.Remove(prompt);
        if (prompt >= 0 && prompt < state.State.Total && state.State.Completed.Add(prompt)) state.State.Done++;
    }

    private Task Save()
    {
        state.State.UpdatedUtc = DateTime.UtcNow;
        return state.WriteStateAsync();
    }
}

/// <summary>The ids of the most recent batch jobs (at most <see cref="Kept"/>), in grain storage.</summary>
public sealed class BatchRegistryGrain([PersistentState("batches", ClusterNames.Storage)] IPersistentState<List<string>> state)
    : Grain, IBatchRegistryGrain
{
    private const int Kept = 20;

    public async Task Add(string batchId)
    {
        state.State.Remove(batchId);
        state.State.Add(batchId);
        if (state.State.Count > Kept) state.State.RemoveRange(0, state.State.Count - Kept);
        await state.WriteStateAsync();
    }

    public Task<string[]> Recent() => Task.FromResult(state.State.ToArray());
}
