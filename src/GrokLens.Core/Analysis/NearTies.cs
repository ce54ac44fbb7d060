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
    /// routing, where p(k-th) − p(k+1-th) &lt; <paramref name="threshold"/>. Positions are absolute. Where the cache
    /// also holds the layer's <c>moe.hook_topk_indices</c>, k is the number of experts the run actually chose there
    /// (so a top-k intervention is respected).
    /// </summary>
    public static IReadOnlyList<NearTie> Find(ActivationCache cache, int topK, double threshold = 0.02)
    {
        if (threshold < 0) throw new ArgumentException("the near-tie threshold must not be negative.");
        var ties = new List<NearTie>();
        foreach (var (layer, hook) in RouterProbabilityHooks(cache))
        {
            var probabilities = cache[hook];
            int experts = (int)probabilities.shape[^1];
            int k = cache.TryGet(hook.Replace(HookPoints.RouterProbs, HookPoints.TopKIndices), out var chosen) ? (int)chosen.shape[^1] : topK;
            if (k < 1) throw new ArgumentException($"top-k must be at least 1, got {k}.");
            if (k >= experts) continue; // Every expert is chosen: nothing left to tie with.
            using var scope = NewDisposeScope();
            var (values, ids) = probabilities.to_type(ScalarType.Float64).topk(k + 1, -1);
            var p = values.data<double>().ToArray();
            var e = ids.data<long>().ToArray();
            for (int t = 0; t < probabilities.shape[0]; t++)
            {
                int kth = t * (k + 1) + k - 1;
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
