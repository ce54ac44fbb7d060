using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Interventions;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Analysis;

/// <summary>One chosen expert's share of a target logit: its slot, gate weight and contribution.</summary>
public sealed record ExpertAttribution(int Expert, int Slot, double Gate, double Contribution);

/// <summary>
/// A target logit (or logit difference) at one position split into the direct contributions of the embedding, every
/// attention head, every chosen expert and (Grok-2) every layer's dense MLP. Norm scales are frozen from the forward pass
/// (docs/analysis.md), which makes the split exact: <see cref="SumOfParts"/> equals <see cref="Logit"/> up to float
/// rounding. With Grok-2's final soft-cap, <see cref="Logit"/> is the logit before the cap (the part that is linear in the
/// residual) and <see cref="CappedLogit"/> the model's output.
/// </summary>
public sealed record LogitAttributionResult(
    int TokenId, int? OtherTokenId, int Position, double Logit, double Embedding,
    double[][] Heads, double[] Attention, double[] Moe, ExpertAttribution[][] Experts,
    double[] AttentionNormScale, double[] MoeNormScale, double FinalNormScale)
{
    /// <summary>Each layer's dense MLP (Grok-2's residual MoE); zeros for Grok-1. <see cref="Moe"/> is then the experts' part only.</summary>
    public double[] Dense { get; init; } = new double[Moe.Length];

    /// <summary>The logit (difference) after the final soft-cap: what the model outputs. Equals <see cref="Logit"/> without a cap.</summary>
    public double CappedLogit { get; init; } = Logit;

    public double SumOfParts => Embedding + Attention.Sum() + Moe.Sum() + Dense.Sum();
}

/// <summary>
/// Direct logit attribution. Grok's residual after the last layer is embed + Σₗ (post_attn_norm(attnₗ) +
/// post_moe_norm(ffnₗ)), with ffnₗ = moeₗ in Grok-1 and (mlpₗ + moeₗ)/√2 in Grok-2, and the logits before any final cap
/// are m · final_norm(residual) · Eᵀ. Every RMSNorm is g ⊙ x · s(x) with s = 1/√(mean(x²) + eps); freezing each s at its
/// forward-pass value makes all three norms linear, so the target logit is a sum of per-component dot products:
/// component · (s_branch g_branch) ⊙ (m s_final g_final ⊙ E[target]). Heads split attnₗ exactly (it is Σ heads'
/// attn.hook_result), experts split moeₗ (Σ slots gate · expert_out) and Grok-2's dense MLP is its own part.
/// </summary>
public static class DirectLogitAttribution
{
    public static IReadOnlyList<string> RequiredHooks(GrokLens.Model.GrokConfig config) =>
    [
        HookPoints.Embed,
        .. Enumerable.Range(0, config.NumLayers).SelectMany(l => new[]
        {
            HookPoints.Layer(l, HookPoints.Result), HookPoints.Layer(l, HookPoints.AttnOut),
            HookPoints.Layer(l, HookPoints.TopKIndices), HookPoints.Layer(l, HookPoints.TopKWeights),
            HookPoints.Layer(l, HookPoints.ExpertOut), HookPoints.Layer(l, HookPoints.MoeOut),
        }.Concat(config.ResidualMoe ? [HookPoints.Layer(l, HookPoints.MlpOut), HookPoints.Layer(l, HookPoints.FfnOut)] : [])),
        HookPoints.Layer(config.NumLayers - 1, HookPoints.ResidPost),
        .. config.FinalLogitSoftcap > 0 ? new[] { HookPoints.LogitsUncapped } : [],
    ];

    /// <summary>Runs the prompt (with interventions, if any) and attributes the target logit at a position (−1: last).</summary>
    public static LogitAttributionResult Run(LoadedModel model, IReadOnlyList<int> tokenIds, int target, int? otherTarget = null,
        int position = -1, IReadOnlyList<Intervention>? interventions = null)
    {
        using var run = InterventionRunner.Run(model, tokenIds, interventions ?? [],
            new RunOptions { Capture = RequiredHooks(model.Config) });
        return Compute(model, run, target, otherTarget, position);
    }

    /// <summary>Attributes from a run that captured <see cref="RequiredHooks"/>.</summary>
    public static LogitAttributionResult Compute(LoadedModel model, RunResult run, int target, int? otherTarget = null, int position = -1)
    {
        var config = model.Config;
        int length = run.TokenIds.Count;
        if (position < 0) position += length;
        if (position < 0 || position >= length) throw new ArgumentException($"position must be in 0…{length - 1} (or −1 for the last).");
        foreach (int? id in new[] { (int?)target, otherTarget })
            if (id is int t && (t < 0 || t >= config.VocabSize))
                throw new ArgumentException($"target token {t} is outside the vocabulary 0…{config.VocabSize - 1}.");

        using var scope = NewDisposeScope();
        var cache = run.Cache;
        var grok = model.Model;
        Tensor At(string hook) => cache[hook][position].to_type(ScalarType.Float64);
        Tensor Weight(Tensor w) => w.detach().cpu().to_type(ScalarType.Float64);
        Tensor Scale(Tensor x) => (x.square().mean() + config.RmsNormEps).rsqrt();

        // Unembedding direction of the target (minus the other target), through the frozen final norm and multiplier.
        var unembedding = Weight(grok.OutputHead);
        var direction = unembedding[target];
        if (otherTarget is int other) direction = direction - unembedding[other];
        var finalScale = Scale(At(HookPoints.Layer(config.NumLayers - 1, HookPoints.ResidPost)));
        var readout = direction * Weight(grok.finalNorm.weight) * finalScale * config.OutputMultiplier;

        double embedding = At(HookPoints.Embed).dot(readout).item<double>();
        var heads = new double[config.NumLayers][];
        var attention = new double[config.NumLayers];
        var moe = new double[config.NumLayers];
        var dense = new double[config.NumLayers];
        var experts = new ExpertAttribution[config.NumLayers][];
        var attentionScales = new double[config.NumLayers];
        var moeScales = new double[config.NumLayers];
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            var block = grok.layers[layer];
            var attentionOut = At(HookPoints.Layer(layer, HookPoints.AttnOut));
            var attentionScale = Scale(attentionOut);
            var attentionReadout = readout * Weight(block.postAttentionNorm.weight) * attentionScale;
            heads[layer] = At(HookPoints.Layer(layer, HookPoints.Result)).matmul(attentionReadout).data<double>().ToArray();
            attention[layer] = attentionOut.dot(attentionReadout).item<double>();

            // The post-MoE norm reads the feed-forward output: the MoE's, or Grok-2's (mlp + moe)/√2.
            var moeOut = At(HookPoints.Layer(layer, HookPoints.MoeOut));
            var feedForward = config.ResidualMoe ? At(HookPoints.Layer(layer, HookPoints.FfnOut)) : moeOut;
            var moeScale = Scale(feedForward);
            var branchReadout = readout * Weight(block.postMoeNorm.weight) * moeScale;
            var moeReadout = config.ResidualMoe ? branchReadout / Math.Sqrt(2) : branchReadout;
            moe[layer] = moeOut.dot(moeReadout).item<double>();
            if (config.ResidualMoe) dense[layer] = At(HookPoints.Layer(layer, HookPoints.MlpOut)).dot(moeReadout).item<double>();
            var gates = At(HookPoints.Layer(layer, HookPoints.TopKWeights)).data<double>().ToArray();
            var chosen = cache[HookPoints.Layer(layer, HookPoints.TopKIndices)][position].data<long>().ToArray();
            var perSlot = At(HookPoints.Layer(layer, HookPoints.ExpertOut)).matmul(moeReadout).data<double>().ToArray();
            experts[layer] = chosen.Select((e, slot) => new ExpertAttribution((int)e, slot, gates[slot], gates[slot] * perSlot[slot])).ToArray();

            attentionScales[layer] = attentionScale.item<double>();
            moeScales[layer] = moeScale.item<double>();
        }

        double LogitOf(Tensor logits) =>
            logits[position, target].item<float>() - (otherTarget is int o ? logits[position, o].item<float>() : 0);
        double capped = LogitOf(run.Logits);
        double logit = config.FinalLogitSoftcap > 0 ? LogitOf(cache[HookPoints.LogitsUncapped]) : capped;
        return new LogitAttributionResult(target, otherTarget, position, logit, embedding, heads, attention, moe, experts,
            attentionScales, moeScales, finalScale.item<double>()) { Dense = dense, CappedLogit = capped };
    }
}
