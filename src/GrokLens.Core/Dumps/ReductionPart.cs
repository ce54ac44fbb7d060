using GrokLens.Analysis;
using static TorchSharp.torch;

namespace GrokLens.Dumps;

/// <summary>
/// The reductions of one run, or of the layers one cluster shard holds of it: per reduced hook the float64 sum, the count
/// and the float32 max per neuron; per layer the top-k assignments per expert [E] and the routing statistics of the run
/// (null with fewer than two tokens). <see cref="ActivationReducer.Add"/> folds parts into the running reductions; parts
/// of disjoint layers (the shards of one run) combine with <see cref="Combine"/>. Owns its tensors.
/// </summary>
public sealed class ReductionPart : IDisposable
{
    public ReductionPart(long tokens)
    {
        Tokens = tokens;
    }

    /// <summary>Positions of the run.</summary>
    public long Tokens { get; }

    /// <summary>Per layer: how often each expert was chosen [E] (int64).</summary>
    public SortedDictionary<int, Tensor> ExpertCounts { get; } = new();

    /// <summary>Per layer: the run's routing statistics, null when it has fewer than two tokens.</summary>
    public SortedDictionary<int, RoutingStatistics?> Routing { get; } = new();

    /// <summary>Per reduced hook: sum (float64), count (int64, [] or [E]) and max (float32) per neuron.</summary>
    public SortedDictionary<string, (Tensor Sum, Tensor Count, Tensor Max)> Neurons { get; } = new(StringComparer.Ordinal);

    /// <summary>One part holding the layers and hooks of several parts of the same run (their tensors move into it).</summary>
    public static ReductionPart Combine(IReadOnlyList<ReductionPart> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("Nothing to combine.");
        var combined = new ReductionPart(parts[0].Tokens);
        foreach (var part in parts)
        {
            if (part.Tokens != combined.Tokens) throw new ArgumentException("Parts of one run must cover the same tokens.");
            foreach (var (layer, counts) in part.ExpertCounts) combined.ExpertCounts.Add(layer, counts);
            foreach (var (layer, routing) in part.Routing) combined.Routing.Add(layer, routing);
            foreach (var (hook, values) in part.Neurons) combined.Neurons.Add(hook, values);
            part.ExpertCounts.Clear();
            part.Neurons.Clear();
        }
        return combined;
    }

    public void Dispose()
    {
        foreach (var counts in ExpertCounts.Values) counts.Dispose();
        foreach (var (sum, count, max) in Neurons.Values)
        {
            sum.Dispose();
            count.Dispose();
            max.Dispose();
        }
        ExpertCounts.Clear();
        Neurons.Clear();
    }
}
