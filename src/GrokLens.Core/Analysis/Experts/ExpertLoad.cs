namespace GrokLens.Analysis.Experts;

/// <summary>One layer's expert load in one subset.</summary>
/// <param name="Counts">Top-k assignments per expert.</param>
/// <param name="Shares">Counts / all assignments (sums to 1; uniform is 1/E).</param>
/// <param name="Top1Shares">Share of tokens whose first choice is each expert.</param>
/// <param name="ChiSquare">Pearson's χ² of the assignment counts against equal counts: Σ (count − n/E)² / (n/E).</param>
/// <param name="KlFromUniform">KL(shares ‖ uniform) = Σ s·ln(s·E), nats (0 for a perfectly balanced layer, ln E at most).</param>
/// <param name="Top1KlFromUniform">The same for the top-1 shares.</param>
public sealed record ExpertLoadLayer(int Layer, long[] Counts, double[] Shares, long[] Top1Counts, double[] Top1Shares,
    double ChiSquare, double KlFromUniform, double Top1KlFromUniform);

/// <summary>The load of every layer in one subset (a book, a prompt file, or "all").</summary>
public sealed record ExpertLoadSubset(string Subset, int Prompts, long Tokens, IReadOnlyList<ExpertLoadLayer> Layers);

/// <summary>
/// Expert load by domain, as Mixtral's per-layer histograms show it: for each subset and layer, the share of top-k
/// assignments each expert receives, against the uniform line 1/E, with χ² and KL distances from uniform. χ² is a
/// distance here, not a test: the k choices of a token are not independent draws.
/// </summary>
public sealed record ExpertLoadResult(int Experts, int TopK, double UniformShare, IReadOnlyList<ExpertLoadSubset> Subsets) : IExpertResult
{
    /// <summary>The load of each subset, then of all subsets together (named "all") when there are several.</summary>
    public static ExpertLoadResult From(ExpertTallies tallies, int topK)
    {
        var subsets = tallies.Subsets.Select(s => Subset(s.Subset, s.Tally)).ToList();
        if (tallies.Subsets.Count > 1) subsets.Add(Subset("all", tallies.Total));
        int experts = tallies.Total.Routing.Experts;
        return new ExpertLoadResult(experts, topK, 1.0 / experts, subsets);
    }

    public static ExpertLoadSubset Subset(string name, ExpertTally tally)
    {
        var routing = tally.Routing;
        var layers = Enumerable.Range(0, routing.Layers).Select(layer =>
        {
            var counts = routing.TopK[layer];
            var top1 = routing.Top1[layer];
            var shares = Shares(counts);
            var top1Shares = Shares(top1);
            return new ExpertLoadLayer(layer, counts.ToArray(), shares, top1.ToArray(), top1Shares,
                ChiSquare(counts), KlFromUniform(shares), KlFromUniform(top1Shares));
        }).ToList();
        return new ExpertLoadSubset(name, tally.Prompts, tally.Tokens, layers);
    }

    public static double[] Shares(long[] counts)
    {
        long total = counts.Sum();
        return counts.Select(c => total == 0 ? 0 : (double)c / total).ToArray();
    }

    public static double ChiSquare(long[] counts)
    {
        double expected = (double)counts.Sum() / counts.Length;
        return expected == 0 ? 0 : counts.Sum(c => (c - expected) * (c - expected) / expected);
    }

    public static double KlFromUniform(double[] shares) => shares.Where(s => s > 0).Sum(s => s * Math.Log(s * shares.Length));

    /// <summary>"expert_load": one row per subset, layer and expert; "expert_load_summary": one per subset and layer.</summary>
    public IReadOnlyList<ResultTable> Tables() =>
    [
        new("expert_load", ["subset", "layer", "expert", "assignments", "share", "top1_count", "top1_share", "uniform_share"],
            Subsets.SelectMany(s => s.Layers.SelectMany(l => Enumerable.Range(0, Experts).Select(e => new object?[]
            {
                s.Subset, l.Layer, e, l.Counts[e], l.Shares[e], l.Top1Counts[e], l.Top1Shares[e], UniformShare,
            }))).ToList()),
        new("expert_load_summary", ["subset", "layer", "prompts", "tokens", "chi_square", "kl_from_uniform", "top1_kl_from_uniform", "max_share", "min_share"],
            Subsets.SelectMany(s => s.Layers.Select(l => new object?[]
            {
                s.Subset, l.Layer, s.Prompts, s.Tokens, l.ChiSquare, l.KlFromUniform, l.Top1KlFromUniform, l.Shares.Max(), l.Shares.Min(),
            })).ToList()),
    ];
}
