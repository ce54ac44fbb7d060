using GrokLens.Model;

namespace GrokLens.Hooks;

/// <summary>One named place in the forward pass where an activation can be captured or replaced.</summary>
/// <param name="Name">Full name, e.g. <c>blocks.3.attn.hook_pattern</c>.</param>
/// <param name="Layer">Decoder layer, or null for hooks outside the layers.</param>
/// <param name="Shape">Symbolic shape of one sequence's tensor (no batch dimension).</param>
/// <param name="Meaning">What the tensor is, in one sentence.</param>
public sealed record HookPointInfo(string Name, int? Layer, string Shape, string Meaning);

/// <summary>
/// The catalogue of hook points. Names follow TransformerLens where a concept maps; symbols in shapes:
/// T positions, Tk key positions (cache included), D hidden size, H query heads, Hkv key/value heads,
/// d head size, E experts, k experts per token, F expert width, V vocabulary.
/// </summary>
public static class HookPoints
{
    public const string Embed = "hook_embed";
    public const string FinalNorm = "hook_final_norm";
    public const string LogitsUncapped = "hook_logits_uncapped";
    public const string Logits = "logits";

    // Per-layer suffixes, in the order the forward pass reaches them.
    public const string ResidPre = "hook_resid_pre";
    public const string AttnInput = "ln1.hook_normalized";
    public const string Q = "attn.hook_q";
    public const string K = "attn.hook_k";
    public const string V = "attn.hook_v";
    public const string AttnScoresRaw = "attn.hook_attn_scores_raw";
    public const string AttnScores = "attn.hook_attn_scores";
    public const string AttnScoresTempered = "attn.hook_attn_scores_tempered";
    public const string Pattern = "attn.hook_pattern";
    public const string Z = "attn.hook_z";
    public const string Result = "attn.hook_result";
    public const string AttnOut = "hook_attn_out";
    public const string AttnOutNormed = "hook_attn_out_normed";
    public const string ResidMid = "hook_resid_mid";
    public const string MoeInput = "ln2.hook_normalized";
    public const string RouterLogits = "moe.hook_router_logits";
    public const string RouterLogitsCapped = "moe.hook_router_logits_capped";
    public const string RouterProbs = "moe.hook_router_probs";
    public const string TopKIndices = "moe.hook_topk_indices";
    public const string TopKWeights = "moe.hook_topk_weights";
    public const string ExpertPre = "moe.hook_expert_pre";
    public const string ExpertPost = "moe.hook_expert_post";
    public const string ExpertOut = "moe.hook_expert_out";
    public const string MoeOut = "hook_moe_out";
    public const string MlpPre = "mlp.hook_pre";
    public const string MlpPost = "mlp.hook_post";
    public const string MlpOut = "hook_mlp_out";
    public const string FfnOut = "hook_ffn_out";
    public const string MoeOutNormed = "hook_moe_out_normed";
    public const string ResidPost = "hook_resid_post";

    public static string Layer(int layer, string suffix) => $"blocks.{layer}.{suffix}";

    private static bool Always(GrokConfig config) => true;
    private static bool Tempered(GrokConfig config) => config.AttnTemperatureLen > 0;
    private static bool RouterCapped(GrokConfig config) => config.RouterLogitSoftcap > 0;
    private static bool Residual(GrokConfig config) => config.ResidualMoe;

    private static readonly (string Suffix, string Shape, string Meaning, Func<GrokConfig, bool> Present)[] LayerHooks =
    [
        (ResidPre, "[T, D]", "residual stream entering the layer", Always),
        (AttnInput, "[T, D]", "pre-attention RMSNorm output: the attention's input", Always),
        (Q, "[T, H, d]", "queries after RoPE", Always),
        (K, "[T, Hkv, d]", "keys after RoPE (this call's positions only)", Always),
        (V, "[T, Hkv, d]", "values (this call's positions only)", Always),
        (AttnScoresRaw, "[H, T, Tk]", "q·k × attn_output_multiplier, before the soft-cap and the mask", Always),
        (AttnScores, "[H, T, Tk]", "cap·tanh(raw/cap): after the soft-cap, before the mask", Always),
        (AttnScoresTempered, "[H, T, Tk]",
            "soft-capped scores × the attention temperature log₂(p)/log₂(attn_temperature_len) for query positions p past it (Grok-2), before the mask",
            Tempered),
        (Pattern, "[H, T, Tk]", "attention probabilities after cap, causal/pad mask and softmax", Always),
        (Z, "[T, H, d]", "per-head attention-weighted values", Always),
        (Result, "[T, H, D]", "each head's contribution through the output projection (sums to hook_attn_out)", Always),
        (AttnOut, "[T, D]", "attention output projection, before the post-attention norm", Always),
        (AttnOutNormed, "[T, D]", "post-attention RMSNorm of the attention output: what is added to the residual", Always),
        (ResidMid, "[T, D]", "residual after the attention branch", Always),
        (MoeInput, "[T, D]", "pre-MoE RMSNorm output: the router's, experts' (and Grok-2's dense MLP's) input", Always),
        (RouterLogits, "[T, E]", "router logits (before the router soft-cap, where there is one)", Always),
        (RouterLogitsCapped, "[T, E]", "cap·tanh(router logits/cap): what the router's softmax reads (Grok-2)", RouterCapped),
        (RouterProbs, "[T, E]", "softmax of the (capped) router logits (float32)", Always),
        (TopKIndices, "[T, k]", "chosen experts, highest probability first (int64 in memory, int32 in files)", Always),
        (TopKWeights, "[T, k]", "gate weights of the chosen experts: raw probabilities, not renormalised", Always),
        (ExpertPre, "[T, k, F]", "x·linear of each chosen expert slot (GELU input)", Always),
        (ExpertPost, "[T, k, F]", "gelu_tanh(x·linear) ⊙ x·linear_v: the expert neurons", Always),
        (ExpertOut, "[T, k, D]", "each chosen expert's output, before its gate weight", Always),
        (MoeOut, "[T, D]", "gate-weighted sum of the chosen experts' outputs (Grok-2: before it is combined with the dense MLP)", Always),
        (MlpPre, "[T, Fd]", "x·gate_proj of the dense MLP (GELU input; Grok-2)", Residual),
        (MlpPost, "[T, Fd]", "gelu_tanh(x·gate_proj) ⊙ x·up_proj: the dense MLP's neurons (Grok-2)", Residual),
        (MlpOut, "[T, D]", "the dense MLP's output (Grok-2)", Residual),
        (FfnOut, "[T, D]", "(dense MLP output + MoE output)/√2: the feed-forward output before the post-MoE norm (Grok-2)", Residual),
        (MoeOutNormed, "[T, D]", "post-MoE RMSNorm of the feed-forward output: what is added to the residual", Always),
        (ResidPost, "[T, D]", "residual leaving the layer", Always),
    ];

    /// <summary>All hook points of a model, in forward order; Grok-2's extra points only where its config uses them.</summary>
    public static IReadOnlyList<HookPointInfo> All(GrokConfig config)
    {
        var perLayer = LayerHooks.Where(h => h.Present(config)).ToArray();
        var list = new List<HookPointInfo>(3 + config.NumLayers * perLayer.Length + 2)
        {
            new(Embed, null, "[T, D]", "token embedding × embedding_multiplier_scale"),
        };
        for (int layer = 0; layer < config.NumLayers; layer++)
            foreach (var (suffix, shape, meaning, _) in perLayer)
                list.Add(new HookPointInfo(Layer(layer, suffix), layer, shape, meaning));
        list.Add(new HookPointInfo(FinalNorm, null, "[T, D]", "final RMSNorm output"));
        if (config.FinalLogitSoftcap > 0)
            list.Add(new HookPointInfo(LogitsUncapped, null, "[T, V]", "output logits × output_multiplier_scale, before the final soft-cap (Grok-2)"));
        list.Add(new HookPointInfo(Logits, null, "[T, V]",
            "output logits × output_multiplier_scale (after the final soft-cap cap·tanh(z/cap), where there is one)"));
        return list;
    }

    /// <summary>
    /// The symbolic shape of the hook named <paramref name="name"/> in a model of <paramref name="config"/>, or null when
    /// that model has no such hook (an unknown name, a layer it lacks, a Grok-2 point its config does not use). Works
    /// from the name alone, so it costs the same for any number of layers.
    /// </summary>
    public static string? ShapeOf(GrokConfig config, string name)
    {
        if (name == Embed || name == FinalNorm) return "[T, D]";
        if (name == Logits || (name == LogitsUncapped && config.FinalLogitSoftcap > 0)) return "[T, V]";
        if (!TryParseLayer(name, out int layer, out var suffix) || layer >= config.NumLayers) return null;
        foreach (var hook in LayerHooks)
            if (hook.Suffix == suffix) return hook.Present(config) ? hook.Shape : null;
        return null;
    }

    /// <summary>Splits "blocks.{layer}.{suffix}" (a plain non-negative layer number) into its layer and suffix.</summary>
    public static bool TryParseLayer(string name, out int layer, out string suffix)
    {
        layer = -1;
        suffix = "";
        const string prefix = "blocks.";
        int dot = name.StartsWith(prefix, StringComparison.Ordinal) ? name.IndexOf('.', prefix.Length) : -1;
        if (dot < 0) return false;
        var number = name.AsSpan(prefix.Length, dot - prefix.Length);
        if (number.Length is 0 or > 9 || (number[0] == '0' && number.Length > 1)
            || !int.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out layer))
            return false;
        suffix = name[(dot + 1)..];
        return true;
    }

    /// <summary>The per-layer hook suffixes with shapes and meanings (for documentation and UIs); some exist only in Grok-2.</summary>
    public static IReadOnlyList<(string Suffix, string Shape, string Meaning)> PerLayer =>
        LayerHooks.Select(h => (h.Suffix, h.Shape, h.Meaning)).ToArray();
}
