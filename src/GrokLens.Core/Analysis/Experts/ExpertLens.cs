using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Interventions;
using static TorchSharp.torch;

namespace GrokLens.Analysis.Experts;

/// <summary>A token the lens reads and its probability.</summary>
public sealed record LensToken(int TokenId, string? Piece, double Probability);

/// <summary>One chosen expert at one position: its slot, gate weight and the tokens its contribution reads as.</summary>
public sealed record ExpertLensSlot(int Slot, int Expert, double Gate, IReadOnlyList<LensToken> Top);

/// <summary>
/// One layer at one position: each chosen expert's lens, the lens of the whole routed MoE contribution, and the cosine of
/// the top-weighted expert's gated output with the whole MoE output, raw (<c>hook_moe_out</c>) and in the residual stream
/// (after the post-MoE norm's scale).
/// </summary>
public sealed record ExpertLensPosition(int Position, int TokenId, string? Piece, IReadOnlyList<ExpertLensSlot> Slots,
    IReadOnlyList<LensToken> Moe, double Cosine, double ResidualCosine);

public sealed record ExpertLensLayer(int Layer, IReadOnlyList<ExpertLensPosition> Positions);

/// <summary>
/// The per-expert logit lens of one prompt (MoE Lens). Grok adds g ⊙ ffn·s to the residual (the post-MoE RMSNorm: scale g,
/// s = 1/rms(ffn), ffn the MoE output, or (dense + MoE)/√2 in Grok-2), so a chosen expert's contribution to the residual is
/// exactly c = g ⊙ (gate · expert output) · s (/√2): the slots' contributions and Grok-2's dense part add up to
/// <c>hook_moe_out_normed</c>. Each c goes through the final norm and the unembedding (<see cref="Model.GrokModel.Logits"/>,
/// with Grok-2's untied head and final cap), as the logit lens reads a residual. Without g (reading the raw expert output)
/// the lens would ignore the post-MoE norm's per-channel scale, which the model never does.
/// </summary>
public sealed record ExpertLensResult(int[] TokenIds, IReadOnlyList<ExpertLensLayer> Layers) : IExpertResult
{
    /// <summary>"expert_lens": one row per layer, position, slot and rank of the slot's top tokens (slot −1: the whole MoE).</summary>
    public IReadOnlyList<ResultTable> Tables() =>
    [
        new("expert_lens", ["layer", "position", "token_id", "piece", "slot", "expert", "gate", "rank", "lens_token_id", "lens_piece", "probability", "cosine", "residual_cosine"],
            Layers.SelectMany(l => l.Positions.SelectMany(p =>
                p.Slots.Select(s => (s.Slot, s.Expert, (double?)s.Gate, s.Top)).Append((-1, -1, null, p.Moe))
                    .SelectMany(s => s.Top.Select((t, rank) => new object?[]
                    {
                        l.Layer, p.Position, p.TokenId, p.Piece, s.Item1, s.Item2 < 0 ? null : s.Item2, s.Item3, rank + 1, t.TokenId, t.Piece,
                        t.Probability, p.Cosine, p.ResidualCosine,
                    })))).ToList()),
    ];
}

public static class ExpertLens
{
    public static IReadOnlyList<string> RequiredHooks(Model.GrokConfig config) =>
        Enumerable.Range(0, config.NumLayers).SelectMany(l => new[]
        {
            HookPoints.Layer(l, HookPoints.TopKIndices), HookPoints.Layer(l, HookPoints.TopKWeights),
            HookPoints.Layer(l, HookPoints.ExpertOut), HookPoints.Layer(l, HookPoints.MoeOut),
        }.Concat(config.ResidualMoe ? [HookPoints.Layer(l, HookPoints.FfnOut)] : [])).ToList();

    /// <summary>Runs the prompt (with interventions, if any) and reads every chosen expert of the chosen layers (null: all).</summary>
    public static ExpertLensResult ForPrompt(LoadedModel model, IReadOnlyList<int> tokenIds, int topTokens = 5,
        IReadOnlyList<int>? layers = null, IReadOnlyList<Intervention>? interventions = null)
    {
        if (topTokens < 1) throw new ArgumentException("read at least one top token.");
        var config = model.Config;
        foreach (int layer in layers ?? [])
            if (layer < 0 || layer >= config.NumLayers) throw new ArgumentException($"layer {layer} does not exist: the model has layers 0…{config.NumLayers - 1}.");
        using var run = InterventionRunner.Run(model, tokenIds, interventions ?? [], new RunOptions { Capture = RequiredHooks(config) });
        var result = (layers ?? Enumerable.Range(0, config.NumLayers).ToList())
            .Select(layer => Layer(model, run.Cache, layer, Math.Min(topTokens, config.VocabSize))).ToList();
        return new ExpertLensResult(tokenIds.ToArray(), result);
    }

    /// <summary>
    /// Each chosen slot's contribution to the residual, [T, k, D] (float32): g ⊙ (gate · expert output) · s, with the
    /// post-MoE norm's scale g and s = 1/√(mean(ffn²) + eps) of the feed-forward output it normalises (÷√2 in Grok-2).
    /// </summary>
    public static Tensor Contributions(LoadedModel model, ActivationCache cache, int layer)
    {
        var config = model.Config;
        using var scope = NewDisposeScope();
        var gates = cache[HookPoints.Layer(layer, HookPoints.TopKWeights)];
        var outputs = cache[HookPoints.Layer(layer, HookPoints.ExpertOut)];
        var feedForward = cache[HookPoints.Layer(layer, config.ResidualMoe ? HookPoints.FfnOut : HookPoints.MoeOut)];
        var s = (feedForward.square().mean([-1], keepdim: true) + config.RmsNormEps).rsqrt(); // [T, 1]
        var g = model.Model.layers[layer].postMoeNorm.weight.detach().cpu();
        var contribution = outputs * gates.unsqueeze(-1) * s.unsqueeze(-1) * g;
        if (config.ResidualMoe) contribution = contribution / Math.Sqrt(2);
        return contribution.MoveToOuterDisposeScope();
    }

    private static ExpertLensLayer Layer(LoadedModel model, ActivationCache cache, int layer, int topTokens)
    {
        using var scope = NewDisposeScope();
        var tokenizer = model.Tokenizer;
        var contributions = Contributions(model, cache, layer);   // [T, k, D]
        long length = contributions.shape[0], slots = contributions.shape[1], hidden = contributions.shape[2];
        var whole = contributions.sum(1);                          // [T, D]: the routed experts' part of hook_moe_out_normed
        var read = Top(LogitLens.Logits(model, cat([contributions.reshape(-1, hidden), whole], 0)), topTokens, tokenizer);
        var indices = cache[HookPoints.Layer(layer, HookPoints.TopKIndices)].to_type(ScalarType.Int64).contiguous().data<long>().ToArray();
        var gates = cache[HookPoints.Layer(layer, HookPoints.TopKWeights)].to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

        var (raw, residual) = TopExpertCosines.Compute(cache[HookPoints.Layer(layer, HookPoints.TopKWeights)],
            cache[HookPoints.Layer(layer, HookPoints.ExpertOut)], cache[HookPoints.Layer(layer, HookPoints.MoeOut)],
            model.Model.layers[layer].postMoeNorm.weight.detach());
        var cosines = raw.data<double>().ToArray();
        var residualCosines = residual.data<double>().ToArray();

        var positions = new List<ExpertLensPosition>();
        for (int t = 0; t < length; t++)
        {
            var chosen = Enumerable.Range(0, (int)slots)
                .Select(s => new ExpertLensSlot(s, (int)indices[t * slots + s], gates[t * slots + s], read[(int)(t * slots + s)])).ToList();
            int id = cache.TokenIds[t];
            positions.Add(new ExpertLensPosition(t, id, tokenizer?.DisplayPiece(id), chosen, read[(int)(length * slots + t)], cosines[t], residualCosines[t]));
        }
        return new ExpertLensLayer(layer, positions);
    }

    /// <summary>The top tokens and probabilities of each row of logits [N, V].</summary>
    private static IReadOnlyList<LensToken>[] Top(Tensor logits, int k, Tokenization.ITokenizer? tokenizer)
    {
        using var scope = NewDisposeScope();
        var (topLogits, ids) = logits.topk(k, -1);
        var probabilities = topLogits.sub(logits.logsumexp(-1, keepdim: true)).exp().to_type(ScalarType.Float64).data<double>().ToArray();
        var tokens = ids.data<long>().ToArray();
        return Enumerable.Range(0, (int)logits.shape[0]).Select(row => (IReadOnlyList<LensToken>)Enumerable.Range(0, k)
            .Select(r => new LensToken((int)tokens[row * k + r], tokenizer?.DisplayPiece((int)tokens[row * k + r]), probabilities[row * k + r])).ToList()).ToArray();
    }
}
