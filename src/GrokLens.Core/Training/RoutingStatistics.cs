using static TorchSharp.torch;

namespace GrokLens.Training;

/// <summary>
/// Routing of one layer over consecutive tokens: each expert's share of the top-k assignments, how often two
/// neighbouring tokens have the same first (highest-probability) expert, and how often their top-k sets share at
/// least one expert. Under independent uniform routing these rates are 1/E and 1 − C(E−k, k)/C(E, k)
/// (12.5% and 13/28 ≈ 46.4% for top-2 of 8).
/// </summary>
public sealed record RoutingStatistics(int Layer, double[] ExpertShares, double SameFirstExpertRate, double TopKOverlapRate, long Tokens)
{
    /// <summary>1/E.</summary>
    public static double RandomSameFirstExpertRate(int experts) => 1.0 / experts;

    /// <summary>1 − C(E−k, k)/C(E, k): chance that two independent uniform k-subsets of E share an expert.</summary>
    public static double RandomTopKOverlapRate(int experts, int k) => 1 - Binomial(experts - k, k) / Binomial(experts, k);

    public double MinExpertShare => ExpertShares.Min();

    /// <summary>
    /// Statistics from top-k indices [B, T, k] (sorted by probability, as <c>topk</c> returns them). Pairs are
    /// (t, t+1) within a row; positions where <paramref name="isToken"/> [B, T] is false (padding) are skipped.
    /// </summary>
    public static RoutingStatistics FromTopK(int layer, Tensor topIndices, int experts, Tensor? isToken = null)
    {
        if (topIndices.dim() != 3) throw new ArgumentException("Top-k indices must be [batch, positions, k].");
        long batch = topIndices.shape[0], length = topIndices.shape[1], k = topIndices.shape[2];
        var indices = topIndices.cpu().to_type(ScalarType.Int64).data<long>().ToArray();
        bool[]? valid = isToken?.cpu().to_type(ScalarType.Bool).data<bool>().ToArray();
        var counts = new long[experts];
        long tokens = 0, pairs = 0, sameFirst = 0, overlap = 0;
        for (long b = 0; b < batch; b++)
            for (long t = 0; t < length; t++)
            {
                long at = (b * length + t) * k;
                if (valid is not null && !valid[b * length + t]) continue;
                tokens++;
                for (long s = 0; s < k; s++) counts[indices[at + s]]++;
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
            tokens);
    }

    /// <summary>Merges statistics of the same layer computed on separate batches (weighted by tokens; rates by tokens too).</summary>
    public static RoutingStatistics Merge(IReadOnlyList<RoutingStatistics> parts)
    {
        long tokens = parts.Sum(p => p.Tokens);
        int experts = parts[0].ExpertShares.Length;
        var shares = new double[experts];
        foreach (var p in parts)
            for (int e = 0; e < experts; e++) shares[e] += p.ExpertShares[e] * p.Tokens / tokens;
        return new RoutingStatistics(parts[0].Layer, shares,
            parts.Sum(p => p.SameFirstExpertRate * p.Tokens) / tokens,
            parts.Sum(p => p.TopKOverlapRate * p.Tokens) / tokens, tokens);
    }

    private static double Binomial(int n, int k)
    {
        if (k < 0 || k > n) return 0;
        double result = 1;
        for (int i = 1; i <= k; i++) result = result * (n - k + i) / i;
        return result;
    }
}
