using GrokLens.Checkpoints;
using GrokLens.Loading.Naming;
using GrokLens.Model;

namespace GrokLens.Loading;

/// <summary>The Hugging Face naming styles of Grok checkpoints (SPEC §3.2, §4.4, §6.3.8).</summary>
public enum CheckpointNamingStyle
{
    /// <summary>keyfan/grok-1-hf: <c>transformer.decoder_layer.{i}.multi_head_attention.query.weight</c>, … (the fixture's).</summary>
    TransformerDecoderLayer,

    /// <summary>hpcai-tech/grok-1: <c>model.layers.{i}.attn.q_proj.weight</c>, <c>moe_block.experts.{e}.linear</c>, ….</summary>
    ModelLayers,

    /// <summary>xai-org/grok-2: <c>model.layers.{i}.self_attn.q_proj.weight</c>, <c>block_sparse_moe.experts.{e}.w1</c>, <c>mlp.gate_proj</c>, ….</summary>
    Grok2,
}

/// <summary>Finds which naming style a safetensors checkpoint uses.</summary>
public static class CheckpointNaming
{
    /// <summary>The table whose embedding and layer-0 query names are both present.</summary>
    public static TensorNameTable Detect(ITensorSource source)
    {
        foreach (var table in TensorNameTables.Safetensors)
        {
            bool hasEmbedding = table.Names(WeightId.Global(WeightKind.Embedding)).Any(source.Contains);
            bool hasQuery = table.Names(new WeightId(WeightKind.Query, 0)).Any(source.Contains);
            if (hasEmbedding && hasQuery) return table;
        }
        var sample = string.Join(", ", source.Names.Order(StringComparer.Ordinal).Take(5));
        throw new CheckpointFormatException(source.Description, null,
            "not a Grok checkpoint: no known naming style fits (expected e.g. 'transformer.in_out_embed.weight' with " +
            "'transformer.decoder_layer.0.multi_head_attention.query.weight', or 'model.embed_tokens.weight' with " +
            $"'model.layers.0.self_attn.q_proj.weight' or 'model.layers.0.attn.q_proj.weight'; found e.g. {sample}).");
    }
}
