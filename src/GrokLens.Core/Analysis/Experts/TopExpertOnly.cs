using GrokLens.Engine;
using GrokLens.Interventions;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// One layer over a corpus: the mean cosine of the top-weighted expert's gated output with the whole MoE output (raw and in
/// the residual stream), and the loss when only the top expert is kept in this layer.
/// </summary>
public sealed record TopExpertLayer(int Layer, double MeanCosine, double MeanResidualCosine, double? TopExpertLoss, double? LossChange);

/// <summary>Options of <see cref="TopExpertOnly.Run"/>.</summary>
public sealed record TopExpertOptions
{
    /// <summary>Layers whose top-expert-only loss is measured, one pass each (null: all).</summary>
    public IReadOnlyList<int>? Layers { get; init; }

    /// <summary>Also measure the loss with only the top expert in every layer at once.</summary>
    public bool AllLayers { get; init; } = true;

    /// <summary>
    /// Set the kept expert's gate to 1 (<see cref="RenormaliseGates"/>) instead of leaving the router's probability. Grok-1's
    /// post-MoE RMSNorm rescales the MoE output, so this changes little there; in Grok-2 it changes the routed part's weight
    /// against the dense MLP.
    /// </summary>
    public bool RenormaliseGate { get; init; }
}

/// <summary>
/// MoE Lens's claim that the top expert carries the layer: how well the top-weighted expert alone matches the MoE output,
/// and what the loss becomes when only it is kept (<see cref="SetTopK"/> with k = 1; its gate stays the router's
/// probability unless <see cref="TopExpertOptions.RenormaliseGate"/>).
/// </summary>
public sealed record TopExpertResult(string Subset, double BaselineLoss, long PredictedTokens, bool RenormalisedGate,
    double? AllLayersLoss, double? AllLayersLossChange, IReadOnlyList<TopExpertLayer> Layers) : IExpertResult
{
    /// <summary>"top_expert": one row per layer, then one for all layers at once (layer empty) when measured.</summary>
    public IReadOnlyList<ResultTable> Tables() =>
    [
        new("top_expert", ["layer", "mean_cosine", "mean_residual_cosine", "top_expert_loss", "baseline_loss", "loss_change"],
            Layers.Select(l => new object?[] { l.Layer, l.MeanCosine, l.MeanResidualCosine, l.TopExpertLoss, BaselineLoss, l.LossChange })
                .Concat(AllLayersLoss is null ? [] : [new object?[] { null, null, null, AllLayersLoss, BaselineLoss, AllLayersLossChange }])
                .ToList()),
    ];
}

public static class TopExpertOnly
{
    /// <summary>One pass for the cosines and the plain loss, then a loss pass per measured layer (and one for all layers).</summary>
    public static TopExpertResult Run(IModelEngine model, ExpertCorpus corpus, TopExpertOptions? options = null,
        IProgress<ExpertProgress>? progress = null, CancellationToken cancellation = default)
    {
        options ??= new TopExpertOptions();
        var config = model.Config;
        var layers = options.Layers ?? Enumerable.Range(0, config.NumLayers).ToList();
        var experiments = layers.Select(l => ($"top expert only in layer {l}", KeepTop(options, [l])))
            .Concat(options.AllLayers ? [("top expert only in every layer", KeepTop(options, null))] : [])
            .ToList();
        foreach (var (_, interventions) in experiments) InterventionRunner.CreateHooks(config, interventions);
        var counter = new ProgressCounter(progress, corpus.PromptCount * (1 + experiments.Count));
        var tally = ExpertPass.Run(model, corpus, new ExpertPassOptions { TopExpertCosines = true }, counter, "cosines", cancellation).Total;
        var losses = experiments.Select(e => ExpertPass.Loss(model, corpus, e.Item2, counter, e.Item1, cancellation)).ToList();
        var perLayer = layers.Select((l, i) => (l, losses[i])).ToDictionary(p => p.l, p => p.Item2);
        return From(CausalAudit.Name(corpus), tally, perLayer, options.AllLayers ? losses[^1] : null, options.RenormaliseGate);
    }

    /// <summary>Interventions that keep only the top expert in the layers (null: all).</summary>
    public static IReadOnlyList<Intervention> KeepTop(TopExpertOptions options, IReadOnlyList<int>? layers) =>
        options.RenormaliseGate ? [new SetTopK(1, layers), new RenormaliseGates(layers)] : [new SetTopK(1, layers)];

    public static TopExpertResult From(string subset, ExpertTally tally, IReadOnlyDictionary<int, LossTally> perLayer, LossTally? allLayers,
        bool renormalised)
    {
        var cosines = tally.Cosines ?? throw new ArgumentException("The tally has no top-expert cosines: run the pass with TopExpertCosines = true.");
        double baseline = tally.Loss.Mean;
        var layers = Enumerable.Range(0, cosines.Layers).Select(l =>
        {
            double? loss = perLayer.TryGetValue(l, out var tallyOfLayer) ? tallyOfLayer.Mean : null;
            return new TopExpertLayer(l, cosines.CosineSum[l] / cosines.Tokens[l], cosines.ResidualCosineSum[l] / cosines.Tokens[l],
                loss, loss - baseline);
        }).ToList();
        return new TopExpertResult(subset, baseline, tally.Loss.Tokens, renormalised, allLayers?.Mean, allLayers?.Mean - baseline, layers);
    }
}
