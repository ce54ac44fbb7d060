namespace GrokLens.Cluster.Contracts;

/// <summary>Starts a session on a shard: what to capture, reduce and change while its layers run, and its KV cache.</summary>
[GenerateSerializer]
public sealed class OpenRequest
{
    [Id(0)] public Guid SessionId { get; init; }

    /// <summary>Who opened it (for status and logs).</summary>
    [Id(1)] public string Client { get; init; } = "";

    /// <summary>Hook names of this shard to return raw at <c>Close</c>.</summary>
    [Id(2)] public string[] Capture { get; init; } = [];

    /// <summary>Hook names of this shard to reduce per neuron; null: no reductions.</summary>
    [Id(3)] public string[]? Reduce { get; init; }

    /// <summary>The interventions as JSON (docs/interventions.md); every shard gets all and applies those of its layers.</summary>
    [Id(4)] public string InterventionsJson { get; init; } = "[]";

    /// <summary>The source run's activations of this shard's hooks that patching interventions read.</summary>
    [Id(5)] public NamedTensor[] Source { get; init; } = [];

    /// <summary>Positions of the KV cache (prompt + new tokens); 0 for a single forward pass without cache.</summary>
    [Id(6)] public int CacheCapacity { get; init; }

    /// <summary>
    /// For a session opened by a one-trip <see cref="StepRequest.Open"/>: the client collects what it leaves (captures,
    /// reductions, and on the last shard the logits) with <c>Collect</c>, sent alongside the step; otherwise the session
    /// closes as soon as its layers have run.
    /// </summary>
    [Id(7)] public bool Collected { get; init; }
}

/// <summary>One forward call through the pipeline, starting at the shard it is sent to.</summary>
[GenerateSerializer]
public sealed class StepRequest
{
    [Id(0)] public Guid SessionId { get; init; }

    /// <summary>Token ids of this call [T] (positions continue after the cached ones).</summary>
    [Id(1)] public long[] Tokens { get; init; } = [];

    /// <summary>The residual stream [1, T, D] entering this shard; null for the shard holding layer 0.</summary>
    [Id(2)] public TensorData? Residual { get; init; }

    /// <summary>Shard keys after this one, in order; the last shard returns the logits.</summary>
    [Id(3)] public string[] Downstream { get; init; } = [];

    /// <summary>Unembed only the last position (generation).</summary>
    [Id(4)] public bool LastPositionOnly { get; init; }

    /// <summary>
    /// A single forward pass in one trip: the sessions of this shard and the downstream ones (in order) open with the
    /// call; each closes after its layers ran or, if <see cref="OpenRequest.Collected"/>, when the client collects it.
    /// Null: the session is open already (a generation).
    /// </summary>
    [Id(5)] public OpenRequest[]? Open { get; init; }
}

/// <summary>
/// The logits of a forward call, [1, T, V] (or [1, 1, V] for the last position only); empty when the last shard's
/// session is collected (its logits come with <see cref="CloseReply.Logits"/>).
/// </summary>
[GenerateSerializer]
public sealed class StepReply
{
    [Id(0)] public TensorData Logits { get; init; } = new();
}

/// <summary>What a session leaves when it closes: its captures (forward order), reductions and, on the last shard, logits.</summary>
[GenerateSerializer]
public sealed class CloseReply
{
    [Id(0)] public NamedTensor[] Captures { get; init; } = [];
    [Id(1)] public ReductionData? Reduction { get; init; }

    /// <summary>From <c>Collect</c>: the session was closed without its results (by <c>Close</c>, a failed pass, or expiry).</summary>
    [Id(2)] public bool Missing { get; init; }

    /// <summary>The last shard's logits of a collected one-trip pass; null when its captured <c>logits</c> hook holds them.</summary>
    [Id(3)] public TensorData? Logits { get; init; }
}

/// <summary>A <see cref="Dumps.ReductionPart"/> on the wire (routing statistics as JSON).</summary>
[GenerateSerializer]
public sealed class ReductionData
{
    [Id(0)] public long Tokens { get; init; }
    [Id(1)] public int[] Layers { get; init; } = [];
    [Id(2)] public TensorData[] ExpertCounts { get; init; } = [];
    [Id(3)] public string?[] RoutingJson { get; init; } = [];
    [Id(4)] public string[] Hooks { get; init; } = [];
    [Id(5)] public TensorData[] Sums { get; init; } = [];
    [Id(6)] public TensorData[] Counts { get; init; } = [];
    [Id(7)] public TensorData[] Maxima { get; init; } = [];
}

/// <summary>A shard as it reports itself: where it runs and what it holds.</summary>
[GenerateSerializer]
public sealed class ShardStatus
{
    [Id(0)] public string Key { get; init; } = "";
    [Id(1)] public string Host { get; init; } = "";
    [Id(2)] public string Silo { get; init; } = "";
    [Id(3)] public long WeightBytes { get; init; }
    [Id(4)] public long CacheBytes { get; init; }
    [Id(5)] public int Sessions { get; init; }
    [Id(6)] public long ProcessBytes { get; init; }
    [Id(7)] public string Detail { get; init; } = "";
}

/// <summary>What a client needs to know about a model besides its weights: config, tokenizer files, weights fingerprint.</summary>
[GenerateSerializer]
public sealed class ModelFiles
{
    [Id(0)] public string ConfigJson { get; init; } = "";

    /// <summary>Tokenizer files of the model folder by name (tokenizer.model, vocab.json), when present.</summary>
    [Id(1)] public Dictionary<string, byte[]> TokenizerFiles { get; init; } = new();

    /// <summary>The weights fingerprint of the shard's model and each weight file's (docs/dump-format.md).</summary>
    [Id(2)] public string? WeightsFingerprint { get; init; }
    [Id(3)] public string[] WeightFileNames { get; init; } = [];
    [Id(4)] public long[] WeightFileBytes { get; init; } = [];
    [Id(5)] public string[] WeightFileFingerprints { get; init; } = [];
}

/// <summary>An active silo and what it declared.</summary>
[GenerateSerializer]
public sealed class SiloInfo
{
    [Id(0)] public string Address { get; init; } = "";
    [Id(1)] public string Name { get; init; } = "";
    [Id(2)] public string DeclarationJson { get; init; } = "";
}
