using GrokLens.Checkpoints;
using GrokLens.Model;

namespace GrokLens.Loading;

/// <summary>The two Hugging Face naming styles of Grok-1 checkpoints (SPEC §3.2, §4.4).</summary>
public enum CheckpointNamingStyle
{
    /// <summary>keyfan/grok-1-hf: <c>transformer.decoder_layer.{i}.multi_head_attention.query.weight</c>, … (the fixture's).</summary>
    TransformerDecoderLayer,

    /// <summary>hpcai-tech/grok-1: <c>model.layers.{i}.attn.q_proj.weight</c>, <c>moe_block.experts.{e}.linear</c>, ….</summary>
    ModelLayers,
}

/// <summary>
/// Translates canonical parameter names (<see cref="GrokParameterNames"/>) to the names a checkpoint uses. Expert
/// matrices may be stored stacked ([E, out, in], name without an expert index) or one tensor per expert.
/// </summary>
public static class CheckpointNaming
{
    public static CheckpointNamingStyle Detect(ITensorSource source)
    {
        if (source.Contains(GrokParameterNames.Embedding)) return CheckpointNamingStyle.TransformerDecoderLayer;
        if (source.Contains("model.embed_tokens.weight")) return CheckpointNamingStyle.ModelLayers;
        var sample = string.Join(", ", source.Names.Take(5));
        throw new CheckpointFormatException(source.Description, null,
            $"not a Grok-1 checkpoint: neither '{GrokParameterNames.Embedding}' nor 'model.embed_tokens.weight' is present " +
            $"(found e.g. {sample}).");
    }

    /// <summary>Names under which a canonical non-expert tensor may be stored, most likely first.</summary>
    public static IReadOnlyList<string> Candidates(string canonical, CheckpointNamingStyle style)
    {
        if (style == CheckpointNamingStyle.TransformerDecoderLayer) return [canonical];
        if (canonical == GrokParameterNames.Embedding) return ["model.embed_tokens.weight"];
        if (canonical == GrokParameterNames.FinalNorm) return ["model.norm.weight", "model.norm.scale"];
        if (canonical == GrokParameterNames.LmHead) return [GrokParameterNames.LmHead];
        var (layer, suffix) = SplitLayer(canonical);
        var prefix = $"model.layers.{layer}.";
        return suffix switch
        {
            "rms_norm.weight" => [prefix + "pre_attn_norm.weight", prefix + "pre_attn_norm.scale"],
            "rms_norm_1.weight" => [prefix + "post_attn_norm.weight", prefix + "post_attn_norm.scale"],
            "rms_norm_2.weight" => [prefix + "pre_moe_norm.weight", prefix + "pre_moe_norm.scale"],
            "rms_norm_3.weight" => [prefix + "post_moe_norm.weight", prefix + "post_moe_norm.scale"],
            "multi_head_attention.query.weight" => [prefix + "attn.q_proj.weight"],
            "multi_head_attention.key.weight" => [prefix + "attn.k_proj.weight"],
            "multi_head_attention.value.weight" => [prefix + "attn.v_proj.weight"],
            "multi_head_attention.linear.weight" => [prefix + "attn.o_proj.weight"],
            "router.weight" => [prefix + "moe_block.gate.weight"],
            "moe.linear.weight" or "moe.linear_v.weight" or "moe.linear_1.weight" =>
                [prefix + "moe_block.experts." + suffix["moe.".Length..]],
            _ => throw new ArgumentException($"No checkpoint name known for '{canonical}'."),
        };
    }

    /// <summary>True for the stacked expert matrices, which may also be stored per expert.</summary>
    public static bool IsExpertStack(string canonical) =>
        canonical.EndsWith(".moe.linear.weight", StringComparison.Ordinal) ||
        canonical.EndsWith(".moe.linear_v.weight", StringComparison.Ordinal) ||
        canonical.EndsWith(".moe.linear_1.weight", StringComparison.Ordinal);

    /// <summary>Name of one expert's matrix when experts are stored separately.</summary>
    public static string PerExpertName(string canonical, int expert, CheckpointNamingStyle style)
    {
        var (layer, suffix) = SplitLayer(canonical);
        var matrix = suffix["moe.".Length..]; // linear.weight, linear_v.weight or linear_1.weight
        return style == CheckpointNamingStyle.TransformerDecoderLayer
            ? $"{GrokParameterNames.Layer(layer)}.moe.{expert}.{matrix}"
            : $"model.layers.{layer}.moe_block.experts.{expert}.{matrix}";
    }

    private static (int Layer, string Suffix) SplitLayer(string canonical)
    {
        const string prefix = "transformer.decoder_layer.";
        if (!canonical.StartsWith(prefix, StringComparison.Ordinal))
            throw new ArgumentException($"'{canonical}' is not a per-layer parameter name.");
        int dot = canonical.IndexOf('.', prefix.Length);
        return (int.Parse(canonical[prefix.Length..dot]), canonical[(dot + 1)..]);
    }
}
