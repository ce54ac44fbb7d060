namespace GrokLens.Cluster.Grains;

/// <summary>Progress of one batch over the cluster, kept in grain storage (key: the batch id).</summary>
[Alias("GrokLens.Cluster.IBatchJobGrain")]
public interface IBatchJobGrain : IGrainWithStringKey
{
    [Alias("Start")]
    Task Start(string description, int total);

    [Alias("Assigned")]
    Task Assigned(int prompt, string pipeline);

    [Alias("Completed")]
    Task Completed(int prompt);

    /// <summary>A prompt whose pipeline failed goes back to the queue.</summary>
    [Alias("Requeued")]
    Task Requeued(int prompt, string reason);

    /// <summary>
    /// The batch ended. <paramref name="completed"/> lists every prompt the client received, so the final record is
    /// right even when a progress call was lost while the silo holding this grain was replaced.
    /// </summary>
    [Alias("Finished")]
    Task Finished(string outcome, int[] completed);

    [Alias("State")]
    Task<BatchJobState> State();
}

/// <summary>Registry of batch jobs (key 0), so that status can list them.</summary>
[Alias("GrokLens.Cluster.IBatchRegistryGrain")]
public interface IBatchRegistryGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task Add(string batchId);

    [Alias("Recent")]
    Task<string[]> Recent();
}

[GenerateSerializer]
public sealed class BatchJobState
{
    [Id(0)] public string Description { get; set; } = "";
    [Id(1)] public int Total { get; set; }
    [Id(2)] public int Done { get; set; }
    [Id(3)] public Dictionary<int, string> InFlight { get; set; } = new();
    [Id(4)] public int Requeued { get; set; }
    [Id(5)] public string? LastRequeueReason { get; set; }
    [Id(6)] public DateTime StartedUtc { get; set; }
    [Id(7)] public DateTime UpdatedUtc { get; set; }
    [Id(8)] public string? Outcome { get; set; }
    [Id(9)] public HashSet<int> Completed { get; set; } = new();
}
