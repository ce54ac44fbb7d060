using GrokLens.Engine;
using GrokLens.Interventions;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// One expert's observational numbers next to its causal effect. <see cref="UseRate"/>: share of tokens with the expert
/// in their top-k. <see cref="GateMass"/>: its gate weights summed over all tokens / tokens (the mean weight it gets).
/// <see cref="OutputNorm"/>: mean ‖expert output‖ (before the gate) over the tokens that chose it (null if none did).
/// <see cref="LossChange"/>: the corpus loss with the expert banned (<see cref="BanExpert"/>: the next-best expert takes
/// its slot) minus the plain loss, nats per predicted token.
/// </summary>
public sealed record ExpertAuditRow(int Layer, int Expert, double UseRate, double GateMass, double? OutputNorm, double BannedLoss, double LossChange);

/// <summary>Spearman's ρ between an observational number and the loss change, over the experts audited.</summary>
public sealed record RankCorrelations(double UseRate, double GateMass, double OutputNorm);

public sealed record LayerRankCorrelations(int Layer, RankCorrelations Correlations);

/// <summary>Which experts <see cref="CausalAudit.Run"/> bans (null: all).</summary>
public sealed record CausalAuditOptions
{
    public IReadOnlyList<int>? Layers { get; init; }
    public IReadOnlyList<int>? Experts { get; init; }
}

/// <summary>
/// The causal audit: routing statistics are known not to predict an expert's importance, so every expert's use rate,
/// gate mass and output norm stand beside the loss change when it is banned, with the rank correlations between them
/// (over all audited experts, and within each layer).
/// </summary>
public sealed record CausalAuditResult(string Subset, double BaselineLoss, long PredictedTokens, long Tokens, IReadOnlyList<ExpertAuditRow> Experts,
    RankCorrelations Overall, IReadOnlyList<LayerRankCorrelations> PerLayer) : IExpertResult
{
    /// <summary>"causal_audit": one row per expert; "causal_audit_correlations": overall and per layer.</summary>
    public IReadOnlyList<ResultTable> Tables() =>
    [
        new("causal_audit", ["layer", "expert", "use_rate", "gate_mass", "output_norm", "banned_loss", "loss_change"],
            Experts.Select(r => new object?[] { r.Layer, r.Expert, r.UseRate, r.GateMass, r.OutputNorm, r.BannedLoss, r.LossChange }).ToList()),
        new("causal_audit_correlations", ["scope", "spearman_use_rate", "spearman_gate_mass", "spearman_output_norm"],
            PerLayer.Select(l => Row($"layer {l.Layer}", l.Correlations)).Prepend(Row("all", Overall)).ToList()),
    ];

    private static object?[] Row(string scope, RankCorrelations c) => [scope, c.UseRate, c.GateMass, c.OutputNorm];
}

public static class CausalAudit
{
    /// <summary>
    /// One pass counting routing, gates and output norms (and the plain loss), then one loss pass per audited expert with
    /// that expert banned.
    /// </summary>
    public static CausalAuditResult Run(IModelEngine model, ExpertCorpus corpus, CausalAuditOptions? options = null,
        IProgress<ExpertProgress>? progress = null, CancellationToken cancellation = default)
    {
        options ??= new CausalAuditOptions();
        var config = model.Config;
        var layers = options.Layers ?? Enumerable.Range(0, config.NumLayers).ToList();
        var experts = options.Experts ?? Enumerable.Range(0, config.NumExperts).ToList();
        var bans = layers.SelectMany(l => experts.Select(e => new BanExpert(l, e))).ToList();
        InterventionRunner.CreateHooks(config, bans); // Every ban valid before any work.
        var counter = new ProgressCounter(progress, corpus.PromptCount * (1 + bans.Count));
        var tally = ExpertPass.Run(model, corpus, new ExpertPassOptions { OutputNorms = true }, counter, "routing and output norms", cancellation).Total;
        var banned = bans.ToDictionary(b => (b.Layer, b.Expert),
            b => ExpertPass.Loss(model, corpus, [b], counter, $"ban expert {b.Expert} of layer {b.Layer}", cancellation));
        return From(Name(corpus), tally, banned);
    }

    /// <summary>The audit from a tally with output norms and the loss of each banned (layer, expert).</summary>
    public static CausalAuditResult From(string subset, ExpertTally tally, IReadOnlyDictionary<(int Layer, int Expert), LossTally> banned)
    {
        var norms = tally.Norms ?? throw new ArgumentException("The tally has no output norms: run the pass with OutputNorms = true.");
        var routing = tally.Routing;
        double baseline = tally.Loss.Mean;
        var rows = banned.OrderBy(b => b.Key.Layer).ThenBy(b => b.Key.Expert).Select(b =>
        {
            var (layer, expert) = b.Key;
            return new ExpertAuditRow(layer, expert, routing.Rate(layer, expert), routing.GateSum[layer][expert] / routing.Tokens,
                norms.MeanNorm(layer, expert), b.Value.Mean, b.Value.Mean - baseline);
        }).ToList();
        var perLayer = rows.GroupBy(r => r.Layer).Select(g => new LayerRankCorrelations(g.Key, Correlations(g.ToList()))).ToList();
        return new CausalAuditResult(subset, baseline, tally.Loss.Tokens, tally.Tokens, rows, Correlations(rows), perLayer);
    }

    private static RankCorrelations Correlations(IReadOnlyList<ExpertAuditRow> rows)
    {
        double With(Func<ExpertAuditRow, double?> metric)
        {
            var pairs = rows.Where(r => metric(r) is not null).ToList();
            return RankCorrelation.Spearman(pairs.Select(r => metric(r)!.Value).ToList(), pairs.Select(r => r.LossChange).ToList());
        }
        return new RankCorrelations(With(r => r.UseRate), With(r => r.GateMass), With(r => r.OutputNorm));
    }

    internal static string Name(ExpertCorpus corpus) => corpus.Subsets.Count == 1 ? corpus.Subsets[0].Name : "all";
}
