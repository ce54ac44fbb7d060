using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Analysis;

/// <summary>
/// A routing decision that a tiny change could flip: at this layer and position the k-th most likely expert (the last
/// one chosen) and the (k+1)-th (the first one left out) have router probabilities closer than a threshold.
/// </summary>
public sealed record NearTie(int Layer, int Position, int ChosenExpert, double ChosenProbability, int NextExpert, double NextProbability)
{
    public double Gap => ChosenProbability - NextProbability;
}

public static class NearTies
{
    /// <summary>
    /// Near-ties in every layer whose <c>moe.hook_router_probs</c> the cache holds, for top-<paramref name="topK"/>
    /// routing, where p(k-th) − p(k+1-th) &lt; <paramref name="threshold"/>. Positions are absolute.
    /// </summary>
    public static IReadOnlyList<NearTie> Find(ActivationCache cache, int topK, double threshold = 0.02)
    {
        if (threshold < 0) throw new ArgumentException("the near-tie threshold must not be negative.");
        var ties = new List<NearTie>();
        foreach (var (layer, hook) in RouterProbabilityHooks(cache))
        {
            var probabilities = cache[hook];
            int experts = (int)probabilities.shape[^1];
            if (topK < 1 || topK >= experts) throw new ArgumentException($"top-k must be 1…{experts - 1} to have a next-best expert.");
            using var scope = NewDisposeScope();
            var (values, ids) = probabilities.to_type(ScalarType.Float64).topk(topK + 1, -1);
            var p = values.data<double>().ToArray();
            var e = ids.data<long>().ToArray();
            for (int t = 0; t < probabilities.shape[0]; t++)
            {
                int kth = t * (topK + 1) + topK - 1;
                if (p[kth] - p[kth + 1] < threshold)
                    ties.Add(new NearTie(layer, cache.PositionStart + t, (int)e[kth], p[kth], (int)e[kth + 1], p[kth + 1]));
            }
        }
        return ties;
    }

    /// <summary>(layer, hook name) of every captured router-probability hook, by layer.</summary>
    internal static IEnumerable<(int Layer, string Hook)> RouterProbabilityHooks(ActivationCache cache) =>
        cache.Names.Where(n => n.EndsWith(HookPoints.RouterProbs, StringComparison.Ordinal))
            .Select(n => (Layer: int.Parse(n.Split('.')[1]), Hook: n)).OrderBy(x => x.Layer);
}
