namespace GrokLens.Model;

/// <summary>
/// Canonical parameter names, for messages, saved checkpoints and seeds: the Hugging Face keyfan/grok-1-hf names
/// (SPEC §3) with each layer's experts stacked into one [E, out, in] tensor, and Grok-2's dense MLP and output head named
/// in the same style. Checkpoint formats map their own names to <see cref="WeightId"/> through their name tables.
/// </summary>
public static class GrokParameterNames
{
    public static string Of(WeightId id) => id.Kind switch
    {
        WeightKind.Embedding => "transformer.in_out_embed.weight",
        WeightKind.FinalNorm => "transformer.rms_norm.weight",
        WeightKind.OutputHead => "lm_head.weight",
        _ => $"transformer.decoder_layer.{id.Layer}.{LayerSuffix(id.Kind)}",
    };

    /// <summary>The name after <c>transformer.decoder_layer.{i}.</c>.</summary>
    public static string LayerSuffix(WeightKind kind) => kind switch
    {
        WeightKind.PreAttentionNorm => "rms_norm.weight",
        WeightKind.Query => "multi_head_attention.query.weight",
        WeightKind.Key => "multi_head_attention.key.weight",
        WeightKind.Value => "multi_head_attention.value.weight",
        WeightKind.AttentionOutput => "multi_head_attention.linear.weight",
        WeightKind.PostAttentionNorm => "rms_norm_1.weight",
        WeightKind.PreMoeNorm => "rms_norm_2.weight",
        WeightKind.Router => "router.weight",
        WeightKind.ExpertGate => "moe.linear.weight",
        WeightKind.ExpertUp => "moe.linear_v.weight",
        WeightKind.ExpertDown => "moe.linear_1.weight",
        WeightKind.PostMoeNorm => "rms_norm_3.weight",
        WeightKind.DenseGate => "mlp.linear.weight",
        WeightKind.DenseUp => "mlp.linear_v.weight",
        WeightKind.DenseDown => "mlp.linear_1.weight",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a decoder-layer weight"),
    };
}
