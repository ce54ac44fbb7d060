using GrokLens.Model;

namespace GrokLens.Loading.Gguf;

/// <summary>
/// llama.cpp's tensor names for arch <c>grok</c> (SPEC §3.1–3.2) for each canonical parameter. Expert matrices are
/// stacked (<c>ffn_gate_exps</c>, …); files from before llama.cpp stacked them hold one tensor per expert.
/// </summary>
public static class GgufTensorNames
{
    private const string LayerPrefix = "transformer.decoder_layer.";

    /// <summary>Names under which the canonical tensor may be stored, preferred first.</summary>
    public static IReadOnlyList<string> For(string canonical)
    {
        if (canonical == GrokParameterNames.Embedding) return ["token_embd.weight"];
        if (canonical == GrokParameterNames.FinalNorm) return ["output_norm.weight"];
        if (canonical == GrokParameterNames.LmHead) return ["output.weight"];
        var (layer, suffix) = Split(canonical);
        var blk = $"blk.{layer}.";
        return suffix switch
        {
            "rms_norm.weight" => [blk + "attn_norm.weight"],
            "multi_head_attention.query.weight" => [blk + "attn_q.weight"],
            "multi_head_attention.key.weight" => [blk + "attn_k.weight"],
            "multi_head_attention.value.weight" => [blk + "attn_v.weight"],
            "multi_head_attention.linear.weight" => [blk + "attn_output.weight"],
            "rms_norm_1.weight" => [blk + "attn_output_norm.weight"],
            "rms_norm_2.weight" => [blk + "ffn_norm.weight"],
            "router.weight" => [blk + "ffn_gate_inp.weight"],
            "moe.linear.weight" => [blk + "ffn_gate_exps.weight"],
            "moe.linear_v.weight" => [blk + "ffn_up_exps.weight"],
            "moe.linear_1.weight" => [blk + "ffn_down_exps.weight"],
            "rms_norm_3.weight" => [blk + "layer_output_norm.weight", blk + "post_ffw_norm.weight"],
            _ => throw new ArgumentException($"No GGUF name known for '{canonical}'."),
        };
    }

    /// <summary>One expert's matrix in files that store experts separately (<c>blk.{l}.ffn_gate.{e}.weight</c>).</summary>
    public static string PerExpert(string canonical, int expert)
    {
        var stacked = For(canonical)[0];
        return stacked.Replace("_exps.weight", $".{expert}.weight", StringComparison.Ordinal);
    }

    private static (int Layer, string Suffix) Split(string canonical)
    {
        if (!canonical.StartsWith(LayerPrefix, StringComparison.Ordinal))
            throw new ArgumentException($"'{canonical}' is not a per-layer parameter name.");
        int dot = canonical.IndexOf('.', LayerPrefix.Length);
        return (int.Parse(canonical[LayerPrefix.Length..dot]), canonical[(dot + 1)..]);
    }
}
