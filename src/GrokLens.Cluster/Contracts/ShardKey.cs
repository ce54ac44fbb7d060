using System.Globalization;
using GrokLens.Model;

namespace GrokLens.Cluster.Contracts;

/// <summary>
/// Names a shard grain: a model, the layers it runs and the pipeline replica it belongs to, as "model/first-last/replica"
/// (e.g. "grok-tiny/0-1/0"). Placement puts replica r on the r-th silo (by address) declaring those layers.
/// </summary>
public readonly record struct ShardKey(string Model, LayerRange Layers, int Replica)
{
    public static ShardKey Parse(string key)
    {
        var parts = key.Split('/');
        if (parts.Length != 3 || parts[0].Length == 0 || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int replica))
            throw new FormatException($"'{key}' is not a shard key (model/first-last/replica).");
        return new ShardKey(parts[0], LayerRange.Parse(parts[1]), replica);
    }

    public override string ToString() => $"{Model}/{Layers.First}-{Layers.Last}/{Replica}";

    /// <summary>"shard grok-tiny layers 0-1 (replica 0)": for messages.</summary>
    public string Describe() => $"shard {Model} layers {Layers.First}-{Layers.Last} (replica {Replica})";
}
