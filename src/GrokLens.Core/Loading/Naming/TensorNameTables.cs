using GrokLens.Model;
using K = GrokLens.Model.WeightKind;

namespace GrokLens.Loading.Naming;

/// <summary>
/// The name tables of the safetensors and GGUF formats (SPEC §3.1–3.2, §4.4, §6.3.8). Adding a weight means adding its
/// kind here once per format. xAI's raw release names nothing: its files are placed by <see cref="XaiFileSlots"/>.
/// </summary>
public static class TensorNameTables
{
    /// <summary>keyfan/grok-1-hf (the names llama.cpp's converter reads; GrokLens's canonical names), experts stacked or one per expert.</summary>
    public static TensorNameTable TransformerDecoderLayer { get; } = new("transformer.decoder_layer",
        new Dictionary<K, string[]>
        {
            [K.Embedding] = ["transformer.in_out_embed.weight"],
            [K.FinalNorm] = ["transformer.rms_norm.weight"],
            [K.OutputHead] = ["lm_head.weight"],
            [K.PreAttentionNorm] = [Layer(K.PreAttentionNorm)],
            [K.Query] = [Layer(K.Query)],
            [K.Key] = [Layer(K.Key)],
            [K.Value] = [Layer(K.Value)],
            [K.AttentionOutput] = [Layer(K.AttentionOutput)],
            [K.PostAttentionNorm] = [Layer(K.PostAttentionNorm)],
            [K.PreMoeNorm] = [Layer(K.PreMoeNorm)],
            [K.Router] = [Layer(K.Router)],
            [K.ExpertGate] = [Layer(K.ExpertGate)],
            [K.ExpertUp] = [Layer(K.ExpertUp)],
            [K.ExpertDown] = [Layer(K.ExpertDown)],
            [K.PostMoeNorm] = [Layer(K.PostMoeNorm)],
            [K.DenseGate] = [Layer(K.DenseGate)],
            [K.DenseUp] = [Layer(K.DenseUp)],
            [K.DenseDown] = [Layer(K.DenseDown)],
        },
        new Dictionary<K, string>
        {
            [K.ExpertGate] = "transformer.decoder_layer.{l}.moe.{e}.linear.weight",
            [K.ExpertUp] = "transformer.decoder_layer.{l}.moe.{e}.linear_v.weight",
            [K.ExpertDown] = "transformer.decoder_layer.{l}.moe.{e}.linear_1.weight",
        });

    /// <summary>hpcai-tech/grok-1: <c>model.layers.{l}.attn.q_proj</c>, <c>moe_block.experts.{e}.linear</c>, norms with <c>.scale</c> or <c>.weight</c>.</summary>
    public static TensorNameTable HpcAi { get; } = new("model.layers (hpcai-tech Grok-1)",
        new Dictionary<K, string[]>
        {
            [K.Embedding] = ["model.embed_tokens.weight"],
            [K.FinalNorm] = ["model.norm.weight", "model.norm.scale"],
            [K.OutputHead] = ["lm_head.weight"],
            [K.PreAttentionNorm] = ["model.layers.{l}.pre_attn_norm.weight", "model.layers.{l}.pre_attn_norm.scale"],
            [K.Query] = ["model.layers.{l}.attn.q_proj.weight"],
            [K.Key] = ["model.layers.{l}.attn.k_proj.weight"],
            [K.Value] = ["model.layers.{l}.attn.v_proj.weight"],
            [K.AttentionOutput] = ["model.layers.{l}.attn.o_proj.weight"],
            [K.PostAttentionNorm] = ["model.layers.{l}.post_attn_norm.weight", "model.layers.{l}.post_attn_norm.scale"],
            [K.PreMoeNorm] = ["model.layers.{l}.pre_moe_norm.weight", "model.layers.{l}.pre_moe_norm.scale"],
            [K.Router] = ["model.layers.{l}.moe_block.gate.weight"],
            [K.ExpertGate] = ["model.layers.{l}.moe_block.experts.linear.weight"],
            [K.ExpertUp] = ["model.layers.{l}.moe_block.experts.linear_v.weight"],
            [K.ExpertDown] = ["model.layers.{l}.moe_block.experts.linear_1.weight"],
            [K.PostMoeNorm] = ["model.layers.{l}.post_moe_norm.weight", "model.layers.{l}.post_moe_norm.scale"],
        },
        new Dictionary<K, string>
        {
            [K.ExpertGate] = "model.layers.{l}.moe_block.experts.{e}.linear.weight",
            [K.ExpertUp] = "model.layers.{l}.moe_block.experts.{e}.linear_v.weight",
            [K.ExpertDown] = "model.layers.{l}.moe_block.experts.{e}.linear_1.weight",
        });

    /// <summary>
    /// Grok-2's Hugging Face names (SPEC §6.3.8): <c>self_attn.{q,k,v,o}_proj</c>, <c>block_sparse_moe.gate</c>,
    /// <c>block_sparse_moe.experts.{e}.{w1,w3,w2}</c> (gate, up, down), <c>mlp.{gate,up,down}_proj</c>, untied <c>lm_head</c>.
    /// </summary>
    public static TensorNameTable Grok2 { get; } = new("model.layers (Grok-2)",
        new Dictionary<K, string[]>
        {
            [K.Embedding] = ["model.embed_tokens.weight"],
            [K.FinalNorm] = ["model.norm.weight"],
            [K.OutputHead] = ["lm_head.weight"],
            [K.PreAttentionNorm] = ["model.layers.{l}.pre_attn_norm.weight"],
            [K.Query] = ["model.layers.{l}.self_attn.q_proj.weight"],
            [K.Key] = ["model.layers.{l}.self_attn.k_proj.weight"],
            [K.Value] = ["model.layers.{l}.self_attn.v_proj.weight"],
            [K.AttentionOutput] = ["model.layers.{l}.self_attn.o_proj.weight"],
            [K.PostAttentionNorm] = ["model.layers.{l}.post_attn_norm.weight"],
            [K.PreMoeNorm] = ["model.layers.{l}.pre_moe_norm.weight"],
            [K.Router] = ["model.layers.{l}.block_sparse_moe.gate.weight"],
            [K.ExpertGate] = ["model.layers.{l}.block_sparse_moe.experts.w1.weight"],
            [K.ExpertUp] = ["model.layers.{l}.block_sparse_moe.experts.w3.weight"],
            [K.ExpertDown] = ["model.layers.{l}.block_sparse_moe.experts.w2.weight"],
            [K.PostMoeNorm] = ["model.layers.{l}.post_moe_norm.weight"],
            [K.DenseGate] = ["model.layers.{l}.mlp.gate_proj.weight"],
            [K.DenseUp] = ["model.layers.{l}.mlp.up_proj.weight"],
            [K.DenseDown] = ["model.layers.{l}.mlp.down_proj.weight"],
        },
        new Dictionary<K, string>
        {
            [K.ExpertGate] = "model.layers.{l}.block_sparse_moe.experts.{e}.w1.weight",
            [K.ExpertUp] = "model.layers.{l}.block_sparse_moe.experts.{e}.w3.weight",
            [K.ExpertDown] = "model.layers.{l}.block_sparse_moe.experts.{e}.w2.weight",
        });

    /// <summary>llama.cpp's names for arch <c>grok</c>; experts stacked (<c>ffn_*_exps</c>) or, in old files, one per expert.</summary>
    public static TensorNameTable Gguf { get; } = new("GGUF",
        new Dictionary<K, string[]>
        {
            [K.Embedding] = ["token_embd.weight"],
            [K.FinalNorm] = ["output_norm.weight"],
            [K.OutputHead] = ["output.weight"],
            [K.PreAttentionNorm] = ["blk.{l}.attn_norm.weight"],
            [K.Query] = ["blk.{l}.attn_q.weight"],
            [K.Key] = ["blk.{l}.attn_k.weight"],
            [K.Value] = ["blk.{l}.attn_v.weight"],
            [K.AttentionOutput] = ["blk.{l}.attn_output.weight"],
            [K.PostAttentionNorm] = ["blk.{l}.attn_output_norm.weight"],
            [K.PreMoeNorm] = ["blk.{l}.ffn_norm.weight"],
            [K.Router] = ["blk.{l}.ffn_gate_inp.weight"],
            [K.ExpertGate] = ["blk.{l}.ffn_gate_exps.weight"],
            [K.ExpertUp] = ["blk.{l}.ffn_up_exps.weight"],
            [K.ExpertDown] = ["blk.{l}.ffn_down_exps.weight"],
            [K.PostMoeNorm] = ["blk.{l}.layer_output_norm.weight", "blk.{l}.post_ffw_norm.weight"],
            [K.DenseGate] = ["blk.{l}.ffn_gate.weight"],
            [K.DenseUp] = ["blk.{l}.ffn_up.weight"],
            [K.DenseDown] = ["blk.{l}.ffn_down.weight"],
        },
        new Dictionary<K, string>
        {
            [K.ExpertGate] = "blk.{l}.ffn_gate.{e}.weight",
            [K.ExpertUp] = "blk.{l}.ffn_up.{e}.weight",
            [K.ExpertDown] = "blk.{l}.ffn_down.{e}.weight",
        });

    /// <summary>The safetensors naming styles, in the order they are tried.</summary>
    public static IReadOnlyList<TensorNameTable> Safetensors { get; } = [TransformerDecoderLayer, Grok2, HpcAi];

    public static TensorNameTable For(CheckpointNamingStyle style) => style switch
    {
        CheckpointNamingStyle.TransformerDecoderLayer => TransformerDecoderLayer,
        CheckpointNamingStyle.ModelLayers => HpcAi,
        CheckpointNamingStyle.Grok2 => Grok2,
        _ => throw new ArgumentOutOfRangeException(nameof(style), style, null),
    };

    private static string Layer(K kind) => "transformer.decoder_layer.{l}." + GrokParameterNames.LayerSuffix(kind);
}
