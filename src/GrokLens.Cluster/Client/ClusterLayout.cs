using GrokLens.Cluster.Contracts;
using GrokLens.Model;

namespace GrokLens.Cluster;

/// <summary>
/// How a model runs on the cluster right now: its shards (layer ranges that tile the model, as few as the silos'
/// declarations allow) and the pipeline replicas of them. Replica p of every range forms pipeline p.
/// </summary>
public sealed record ClusterLayout(string Model, int NumLayers, IReadOnlyList<LayerRange> Shards, int Replicas)
{
    public ShardKey[] Pipeline(int replica) => Shards.Select(range => new ShardKey(Model, range, replica)).ToArray();

    /// <summary>The layout of <paramref name="model"/> from the declarations of the silos that are up.</summary>
    public static ClusterLayout For(string model, IReadOnlyList<SiloDeclaration> silos)
    {
        var held = silos.SelectMany(s => s.Models.Where(m => m.Name == model)).ToList();
        if (held.Count == 0)
        {
            var offered = silos.SelectMany(s => s.Models).Select(m => m.Name).Distinct().Order(StringComparer.Ordinal).ToList();
            throw new UnknownModelException(offered.Count == 0
                ? $"No silo of the cluster holds model '{model}'; no silo holds any model (are the silos up?)."
                : $"No silo of the cluster holds model '{model}'. The cluster holds: {string.Join(", ", offered)}.");
        }
        int layers = held[0].NumLayers;
        var ranges = held.Select(m => m.Layers).Distinct().ToList();
        var tiling = FewestShards(ranges, layers) ?? throw new UnknownModelException(
            $"The silos hold layers {string.Join(", ", ranges.Order().Select(r => r.ToString()))} of model '{model}', which do not cover " +
            $"all its layers 0-{layers - 1}: start a silo for the missing ones.");
        int replicas = tiling.Max(range => held.Count(m => m.FirstLayer <= range.First && m.LastLayer >= range.Last));
        return new ClusterLayout(model, layers, tiling, replicas);
    }

    /// <summary>Ranges that tile 0…layers−1 exactly, as few as possible (shortest path over range ends); null if none do.</summary>
    private static List<LayerRange>? FewestShards(IReadOnlyList<LayerRange> ranges, int layers)
    {
        var best = new List<LayerRange>?[layers + 1];
        best[0] = [];
        for (int start = 0; start < layers; start++)
        {
            if (best[start] is not { } path) continue;
            foreach (var range in ranges.Where(r => r.First == start).OrderByDescending(r => r.Last))
                if (best[range.Last + 1] is null || best[range.Last + 1]!.Count > path.Count + 1)
                    best[range.Last + 1] = [.. path, range];
        }
        return best[layers];
    }
}

/// <summary>A request named a model, shard or range the cluster does not have.</summary>
public sealed class UnknownModelException(string message) : Exception(message);
