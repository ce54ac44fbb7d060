namespace GrokLens.Model;

/// <summary>
/// Canonical parameter names: the Hugging Face keyfan/grok-1-hf names (SPEC §3) with each layer's experts stacked
/// into one [E, out, in] tensor. Loaders translate other naming styles to these.
/// </summary>
public static class GrokParameterNames
{
    public const string Embedding = "transformer.in_out_embed.weight";
    public const string FinalNorm = "transformer.rms_norm.weight";
    public const string LmHead = "lm_head.weight";

    public static string Layer(int layer) => $"transformer.decoder_layer.{layer}";

    /// <summary>Per-layer suffixes after <see cref="Layer"/>, with their shapes in terms of the config.</summary>
    public static IEnumerable<(string Name, long[] Shape)> All(GrokConfig c)
    {
        long d = c.HiddenSize, q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim;
        long e = c.NumExperts, f = c.ExpertSize;
        yield return (Embedding, [c.VocabSize, d]);
        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            var p = Layer(layer);
            yield return (p + ".rms_norm.weight", [d]);
            yield return (p + ".multi_head_attention.query.weight", [q, d]);
            yield return (p + ".multi_head_attention.key.weight", [kv, d]);
            yield return (p + ".multi_head_attention.value.weight", [kv, d]);
            yield return (p + ".multi_head_attention.linear.weight", [d, q]);
            yield return (p + ".rms_norm_1.weight", [d]);
            yield return (p + ".rms_norm_2.weight", [d]);
            yield return (p + ".router.weight", [e, d]);
            yield return (p + ".moe.linear.weight", [e, f, d]);
            yield return (p + ".moe.linear_v.weight", [e, f, d]);
            yield return (p + ".moe.linear_1.weight", [e, d, f]);
            yield return (p + ".rms_norm_3.weight", [d]);
        }
        yield return (FinalNorm, [d]);
        if (!c.TieWordEmbeddings) yield return (LmHead, [c.VocabSize, d]);
    }
}
