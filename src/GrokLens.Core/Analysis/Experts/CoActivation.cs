namespace GrokLens.Analysis.Experts;

/// <summary>
/// One layer's co-activation. <see cref="Together"/>[a][b] counts tokens that chose both a and b (diagonal: tokens that
/// chose a). <see cref="ConditionalProbability"/>[a][b] = P(b | a) = Together[a][b] / Together[a][a] (OLMoE's heatmap; null
/// where a was never chosen; 1 on the diagonal). <see cref="ObservedOverIndependent"/>[a][b] = P(a and b) / (P(a)·P(b)):
/// how often the pair is chosen together compared with independent choices (null on the diagonal and where a or b was
/// never chosen).
/// </summary>
public sealed record CoActivationLayer(int Layer, long Tokens, long[][] Together, double?[][] ConditionalProbability,
    double?[][] ObservedOverIndependent);

/// <summary>
/// Expert co-activation per layer (OLMoE). A router that picks k distinct experts uniformly at random gives
/// P(b | a) = (k − 1)/(E − 1) and an observed/independent ratio of E(k − 1)/(k(E − 1)) (4/7 for top-2 of 8, not 1: a token
/// never picks the same expert twice); both are given as the random-router baselines.
/// </summary>
public sealed record CoActivationResult(string Subset, int Experts, int TopK, double RandomConditionalProbability,
    double RandomObservedOverIndependent, IReadOnlyList<CoActivationLayer> Layers) : IExpertResult
{
    public static CoActivationResult From(string subset, RoutingCounts routing, int topK)
    {
        int experts = routing.Experts;
        var layers = Enumerable.Range(0, routing.Layers).Select(layer => Layer(layer, routing.Together[layer], routing.Tokens)).ToList();
        return new CoActivationResult(subset, experts, topK, (topK - 1.0) / (experts - 1),
            experts * (topK - 1.0) / (topK * (experts - 1.0)), layers);
    }

    public static CoActivationLayer Layer(int layer, long[][] together, long tokens)
    {
        int experts = together.Length;
        var conditional = new double?[experts][];
        var ratio = new double?[experts][];
        for (int a = 0; a < experts; a++)
        {
            conditional[a] = new double?[experts];
            ratio[a] = new double?[experts];
            long chosenA = together[a][a];
            for (int b = 0; b < experts; b++)
            {
                long chosenB = together[b][b];
                if (chosenA > 0) conditional[a][b] = (double)together[a][b] / chosenA;
                if (a != b && chosenA > 0 && chosenB > 0) ratio[a][b] = (double)together[a][b] * tokens / ((double)chosenA * chosenB);
            }
        }
        return new CoActivationLayer(layer, tokens, together.Select(row => row.ToArray()).ToArray(), conditional, ratio);
    }

    /// <summary>"coactivation": one row per layer and ordered pair (a, b), a ≠ b.</summary>
    public IReadOnlyList<ResultTable> Tables() =>
    [
        new("coactivation", ["subset", "layer", "a", "b", "together", "chosen_a", "chosen_b", "p_b_given_a", "observed_over_independent"],
            Layers.SelectMany(l => Enumerable.Range(0, Experts).SelectMany(a => Enumerable.Range(0, Experts).Where(b => b != a)
                .Select(b => new object?[]
                {
                    Subset, l.Layer, a, b, l.Together[a][b], l.Together[a][a], l.Together[b][b], l.ConditionalProbability[a][b],
                    l.ObservedOverIndependent[a][b],
                }))).ToList()),
    ];
}
