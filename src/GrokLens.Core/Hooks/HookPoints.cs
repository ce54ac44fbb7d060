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
    public const string Logits = "logits";

    // Per-layer suffixes, in the order the forward pass reaches them.
    public const string ResidPre = "hook_resid_pre";
    public const string AttnInput = "ln1.hook_normalized";
    public const string Q = "attn.hook_q";
    public const string K = "attn.hook_k";
    public const string V = "attn.hook_v";
    public const string AttnScoresRaw = "attn.hook_attn_scores_raw";
    public const string AttnScores = "attn.hook_attn_scores";
    public const string Pattern = "attn.hook_pattern";
    public const string Z = "attn.hook_z";
    public const string Result = "attn.hook_result";
    public const string AttnOut = "hook_attn_out";
    public const string AttnOutNormed = "hook_attn_out_normed";
    public const string ResidMid = "hook_resid_mid";
    public const string MoeInput = "ln2.hook_normalized";
    public const string RouterLogits = "moe.hook_router_logits";
    public const string RouterProbs = "moe.hook_router_probs";
    public const string TopKIndices = "moe.hook_topk_indices";
    public const string TopKWeights = "moe.hook_topk_weights";
    public const string ExpertPre = "moe.hook_expert_pre";
    public const string ExpertPost = "moe.hook_expert_post";
    public const string ExpertOut = "moe.hook_expert_out";
    public const string MoeOut = "hook_moe_out";
    public const string MoeOutNormed = "hook_moe_out_normed";
    public const string ResidPost = "hook_resid_post";

    public static string Layer(int layer, string suffix) => $"blocks.{layer}.{suffix}";

    private static readonly (string Suffix, string Shape, string Meaning)[] LayerHooks =
    [
        (ResidPre, "[T, D]", "residual stream entering the layer"),
        (AttnInput, "[T, D]", "pre-attention RMSNorm output: the attention's input"),
        (Q, "[T, H, d]", "queries after RoPE"),
        (K, "[T, Hkv, d]", "keys after RoPE (this call's positions only)"),
        (V, "[T, Hkv, d]", "values (this call's positions only)"),
        (AttnScoresRaw, "[H, T, Tk]", "q·k × attn_output_multiplier, before the soft-cap and the mask"),
        (AttnScores, "[H, T, Tk]", "cap·tanh(raw/cap): after the soft-cap, before the mask"),
        (Pattern, "[H, T, Tk]", "attention probabilities after cap, causal/pad mask and softmax"),
        (Z, "[T, H, d]", "per-head attention-weighted values"),
        (Result, "[T, H, D]", "each head's contribution through the output projection (sums to hook_attn_out)"),
        (AttnOut, "[T, D]", "attention output projection, before the post-attention norm"),
        (AttnOutNormed, "[T, D]", "post-attention RMSNorm of the attention output: what is added to the residual"),
        (ResidMid, "[T, D]", "residual after the attention branch"),
        (MoeInput, "[T, D]", "pre-MoE RMSNorm output: the router's and experts' input"),
        (RouterLogits, "[T, E]", "router logits"),
        (RouterProbs, "[T, E]", "softmax of the router logits (float32)"),
        (TopKIndices, "[T, k]", "chosen experts, highest probability first (int64 in memory, int32 in files)"),
        (TopKWeights, "[T, k]", "gate weights of the chosen experts: raw probabilities, not renormalised"),
        (ExpertPre, "[T, k, F]", "x·linear of each chosen expert slot (GELU input)"),
        (ExpertPost, "[T, k, F]", "gelu_tanh(x·linear) ⊙ x·linear_v: the expert neurons"),
        (ExpertOut, "[T, k, D]", "each chosen expert's output, before its gate weight"),
        (MoeOut, "[T, D]", "gate-weighted sum of the chosen experts' outputs"),
        (MoeOutNormed, "[T, D]", "post-MoE RMSNorm of the MoE output: what is added to the residual"),
        (ResidPost, "[T, D]", "residual leaving the layer"),
    ];

    /// <summary>All hook points of a model, in forward order.</summary>
    public static IReadOnlyList<HookPointInfo> All(GrokConfig config)
    {
        var list = new List<HookPointInfo>(2 + config.NumLayers * LayerHooks.Length + 2)
        {
            new(Embed, null, "[T, D]", "token embedding × embedding_multiplier_scale"),
        };
        for (int layer = 0; layer < config.NumLayers; layer++)
            foreach (var (suffix, shape, meaning) in LayerHooks)
                list.Add(new HookPointInfo(Layer(layer, suffix), layer, shape, meaning));
        list.Add(new HookPointInfo(FinalNorm, null, "[T, D]", "final RMSNorm output"));
        list.Add(new HookPointInfo(Logits, null, "[T, V]", "output logits × output_multiplier_scale"));
        return list;
    }

    /// <summary>The per-layer hook suffixes with shapes and meanings (for documentation and UIs).</summary>
    public static IReadOnlyList<(string Suffix, string Shape, string Meaning)> PerLayer => LayerHooks;
}
