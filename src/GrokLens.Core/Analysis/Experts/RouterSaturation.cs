namespace GrokLens.Analysis.Experts;

/// <summary>
/// One recorded training step: per layer, the share of evaluation tokens whose top-1 expert matches the reference (final)
/// model's, and the mean share of their top-k set it shares (|top-k ∩ reference top-k| / k); the means over layers.
/// </summary>
public sealed record SaturationStep(int Step, long TokensSeen, double[] Top1, double[] TopK, double MeanTop1, double MeanTopK);

/// <summary>
/// Router saturation across training (OLMoE): how many of the final model's routing decisions each recorded checkpoint
/// already makes, per layer, from a routing record (<see cref="RoutingHistory"/>, written during training: the router's
/// top-k choices on fixed evaluation tokens at about ten steps). The reference is the last recorded step unless another
/// is chosen; it agrees with itself completely.
/// </summary>
public sealed record RouterSaturationResult(int Layers, int Experts, int TopK, int Tokens, int ReferenceStep, IReadOnlyList<SaturationStep> Steps) : IExpertResult
{
    public static RouterSaturationResult From(RoutingHistory history, int? referenceStep = null)
    {
        if (history.Steps.Count == 0) throw new ArgumentException($"'{history.Folder}' has no recorded step.");
        var reference = referenceStep is int step ? history.Read(step) : history.ReadFinal();
        var steps = history.Steps.Select(s =>
        {
            var record = history.Read(s.Step);
            var agreement = Enumerable.Range(0, history.Layers).Select(layer => record.Agreement(reference, layer)).ToArray();
            var top1 = agreement.Select(a => a.Top1).ToArray();
            var topK = agreement.Select(a => a.TopK).ToArray();
            return new SaturationStep(s.Step, s.TokensSeen, top1, topK, top1.Average(), topK.Average());
        }).ToList();
        return new RouterSaturationResult(history.Layers, history.Experts, history.TopK, history.TokenCount, reference.Step, steps);
    }

    /// <summary>"router_saturation": one row per step and layer, then per step the mean over layers (layer empty).</summary>
    public IReadOnlyList<ResultTable> Tables() =>
    [
        new("router_saturation", ["step", "tokens_seen", "layer", "top1_agreement", "top_k_agreement", "reference_step"],
            Steps.SelectMany(s => Enumerable.Range(0, Layers)
                    .Select(l => new object?[] { s.Step, s.TokensSeen, l, s.Top1[l], s.TopK[l], ReferenceStep })
                    .Append([s.Step, s.TokensSeen, null, s.MeanTop1, s.MeanTopK, ReferenceStep]))
                .ToList()),
    ];
}
