using static TorchSharp.torch;

namespace GrokLens.Analysis;

/// <summary>
/// Routing of one layer over consecutive tokens: each expert's share of the top-k assignments, how often two
/// neighbouring tokens have the same first (highest-probability) expert, and how often their top-k sets share at
/// least one expert. Under independent uniform routing these rates are 1/E and 1 − C(E−k, k)/C(E, k)
/// (12.5% and 13/28 ≈ 46.4% for top-2 of 8). Also the mean router entropy (nats; null without router probabilities)
/// and the co-activation matrix: CoActivation[i][j] counts tokens that chose both experts i and j (the diagonal: tokens
/// that chose i).
/// </summary>
public sealed record RoutingStatistics(int Layer, double[] ExpertShares, double SameFirstExpertRate, double TopKOverlapRate, long Tokens,
    double? MeanRouterEntropy = null, long[][]? CoActivation = null, long Pairs = 0)
{
    /// <summary>1/E.</summary>
    public static double RandomSameFirstExpertRate(int experts) => 1.0 / experts;

    /// <summary>1 − C(E−k, k)/C(E, k): chance that two independent uniform k-subsets of E share an expert.</summary>
    public static double RandomTopKOverlapRate(int experts, int k) => 1 - Binomial(experts - k, k) / Binomial(experts, k);

    public double MinExpertShare => ExpertShares.Min();

    /// <summary>
    /// Statistics from top-k indices [B, T, k] (sorted by probability, as <c>topk</c> returns them). Pairs are
    /// (t, t+1) within a row; positions where <paramref name="isToken"/> [B, T] is false (padding) are skipped. With
    /// router <paramref name="probabilities"/> [B, T, E] the mean router entropy is computed too.
    /// </summary>
    public static RoutingStatistics FromTopK(int layer, Tensor topIndices, int experts, Tensor? isToken = null, Tensor? probabilities = null)
    {
        if (topIndices.dim() != 3) throw new ArgumentException("Top-k indices must be [batch, positions, k].");
        long batch = topIndices.shape[0], length = topIndices.shape[1], k = topIndices.shape[2];
        var indices = topIndices.cpu().to_type(ScalarType.Int64).data<long>().ToArray();
        bool[]? valid = isToken?.cpu().to_type(ScalarType.Bool).data<bool>().ToArray();
        double[]? entropy = probabilities is null ? null : Entropies(probabilities);
        var counts = new long[experts];
        var coActivation = Enumerable.Range(0, experts).Select(_ => new long[experts]).ToArray();
        double entropySum = 0;
        long tokens = 0, pairs = 0, sameFirst = 0, overlap = 0;
        for (long b = 0; b < batch; b++)
            for (long t = 0; t < length; t++)
            {
                long at = (b * length + t) * k;
                if (valid is not null && !valid[b * length + t]) continue;
                tokens++;
                if (entropy is not null) entropySum += entropy[b * length + t];
                for (long s = 0; s < k; s++)
                {
                    counts[indices[at + s]]++;
                    for (long r = 0; r < k; r++) coActivation[indices[at + s]][indices[at + r]]++;
                }
                if (t + 1 >= length || (valid is not null && !valid[b * length + t + 1])) continue;
                long next = at + k;
                pairs++;
                if (indices[at] == indices[next]) sameFirst++;
                bool shared = false;
                for (long s = 0; s < k && !shared; s++)
                    for (long r = 0; r < k; r++)
                        if (indices[at + s] == indices[next + r]) { shared = true; break; }
                if (shared) overlap++;
            }
        long assignments = counts.Sum();
        return new RoutingStatistics(layer,
            counts.Select(c => assignments == 0 ? 0 : (double)c / assignments).ToArray(),
            pairs == 0 ? double.NaN : (double)sameFirst / pairs,
            pairs == 0 ? double.NaN : (double)overlap / pairs,
            tokens,
            entropy is null || tokens == 0 ? null : entropySum / tokens,
            coActivation, pairs);
    }

    /// <summary>Entropy in nats of each probability row [.., E], flattened.</summary>
    private static double[] Entropies(Tensor probabilities)
    {
        using var scope = NewDisposeScope();
        var p = probabilities.cpu().to_type(ScalarType.Float64);
        return (-(p * p.clamp_min(1e-300).log()).sum(-1)).flatten().data<double>().ToArray();
    }

    /// <summary>
    /// Merges statistics of the same layer computed on separate batches: shares and entropy weighted by tokens, the
    /// consecutive-token rates by neighbour pairs (a one-token part has none and its NaN rates are left out).
    /// </summary>
    public static RoutingStatistics Merge(IReadOnlyList<RoutingStatistics> parts)
    {
        long tokens = parts.Sum(p => p.Tokens);
        long pairs = parts.Sum(p => p.Pairs);
        double PairWeighted(Func<RoutingStatistics, double> rate) =>
            pairs == 0 ? double.NaN : parts.Where(p => p.Pairs > 0).Sum(p => rate(p) * p.Pairs) / pairs;
        int experts = parts[0].ExpertShares.Length;
        var shares = new double[experts];
        foreach (var p in parts)
            for (int e = 0; e < experts; e++) shares[e] += p.ExpertShares[e] * p.Tokens / tokens;
        long[][]? coActivation = parts.All(p => p.CoActivation is not null)
            ? Enumerable.Range(0, experts).Select(i => Enumerable.Range(0, experts).Select(j => parts.Sum(p => p.CoActivation![i][j])).ToArray()).ToArray()
            : null;
        return new RoutingStatistics(parts[0].Layer, shares,
            PairWeighted(p => p.SameFirstExpertRate), PairWeighted(p => p.TopKOverlapRate), tokens,
            parts.All(p => p.MeanRouterEntropy is not null) ? parts.Sum(p => p.MeanRouterEntropy!.Value * p.Tokens) / tokens : null,
            coActivation, pairs);
    }

    private static double Binomial(int n, int k)
    {
        if (k < 0 || k > n) return 0;
        double result = 1;
        for (int i = 1; i <= k; i++) result = result * (n - k + i) / i;
        return result;
    }
}
