using GrokLens.Cluster.Contracts;

namespace GrokLens.Cluster.Grains;

/// <summary>
/// A contiguous range of a model's layers on one silo (key: <see cref="ShardKey"/>). Sessions hold what one run or
/// generation needs on this shard (hooks, interventions, KV cache, captures); a forward call runs the layers and hands
/// the residual stream to the next shard.
/// </summary>
[Alias("GrokLens.Cluster.IShardGrain")]
public interface IShardGrain : IGrainWithStringKey
{
    [Alias("Describe")]
    Task<ShardStatus> Describe();

    [Alias("Files")]
    Task<ModelFiles> Files();

    [Alias("Open")]
    Task Open(OpenRequest request);

    [Alias("Step")]
    Task<StepReply> Step(StepRequest request);

    /// <summary>Closes a session if it is open and ends a pending <see cref="Collect"/> of it (as missing): for cleaning up.</summary>
    [Alias("Close")]
    Task<CloseReply> Close(Guid sessionId);

    /// <summary>
    /// What a session opened with <see cref="OpenRequest.Collected"/> leaves (captures, reductions, the last shard's
    /// logits), once its layers have run: sent alongside the step, it waits for the pass to reach this shard. A reply
    /// marked missing when the session was closed (<see cref="Close"/>, a failed pass) or expired first.
    /// </summary>
    [Alias("Collect")]
    Task<CloseReply> Collect(Guid sessionId);

    /// <summary>Logits of residuals [N, D] through the final norm and head (the last shard only): the logit lens.</summary>
    [Alias("ReadOut")]
    Task<TensorData> ReadOut(TensorData residual);

    /// <summary>Keeps sessions alive while their client waits between calls (sessions not heard of for the lease are freed).</summary>
    [Alias("KeepAlive")]
    Task KeepAlive(Guid[] sessionIds);
}
