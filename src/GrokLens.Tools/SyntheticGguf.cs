using GrokLens.Checkpoints.Gguf;
using GrokLens.Loading.Naming;
using GrokLens.Model;

namespace GrokLens.Tools;

/// <summary>
/// Writes a random Grok-architecture model as a GGUF file of arch <c>grok</c> that both GrokLens and llama.cpp load:
/// the <c>grok.*</c> keys of SPEC §3.3, a tokenizer of the config's vocabulary size (<see cref="GgufVocabulary"/>),
/// projection matrices as <paramref name="matrixType"/> (Q8_0 or F32; experts stacked), norms, routers and the
/// embedding F32. Two full-width Grok-1 layers with a 1,024-token vocabulary (<see cref="SyntheticModels.Grok1Layers"/>) are
/// 10.5 GB as Q8_0.
/// </summary>
public static class SyntheticGguf
{
    public static void Write(string path, GrokConfig config, GgmlType matrixType, long seed, IProgress<long>? bytesWritten = null)
    {
        if (matrixType is not (GgmlType.Q8_0 or GgmlType.F32)) throw new ArgumentException("Matrices are written as Q8_0 or F32.", nameof(matrixType));
        config.Validated();
        var writer = new GgufWriter()
            .Add("general.name", $"GrokLens synthetic {config.NumLayers}-layer {(matrixType == GgmlType.Q8_0 ? "Q8_0" : "F32")}")
            .Add("general.file_type", matrixType == GgmlType.Q8_0 ? 7u : 0u); // llama.cpp's LLAMA_FTYPE_MOSTLY_Q8_0 / ALL_F32
        AddGrokMetadata(writer, config);
        GgufVocabulary.Create(config.VocabSize).AddTo(writer);

        long index = 0;
        foreach (var (id, shape) in GrokModel.Inventory(config))
        {
            var random = SyntheticRandom.Stream(seed, index++);
            long elements = shape.Aggregate(1L, (a, b) => a * b), inputs = shape[^1];
            var gguf = TensorNameTables.Gguf.PreferredName(id);
            if (shape.Length == 1)
                writer.AddTensor(gguf, shape, GgmlType.F32, s => SyntheticTensors.WriteFloat32(s, elements, 1f, 0.1f, random));
            else if (!id.IsMatrix || matrixType == GgmlType.F32)
                writer.AddTensor(gguf, shape, GgmlType.F32, s => SyntheticTensors.WriteFloat32(s, elements, 0f, 1f / MathF.Sqrt(inputs), random));
            else
                writer.AddTensor(gguf, shape, GgmlType.Q8_0, s => SyntheticTensors.WriteQ8_0(s, elements, inputs, random));
        }
        writer.WriteTo(path, bytesWritten);
    }

    /// <summary>general.architecture and the <c>grok.*</c> keys of SPEC §3.3 for <paramref name="config"/>.</summary>
    public static GgufWriter AddGrokMetadata(GgufWriter writer, GrokConfig config) => writer
        .Add("general.architecture", "grok")
        .Add("grok.context_length", (uint)config.MaxPositions)
        .Add("grok.embedding_length", (uint)config.HiddenSize)
        .Add("grok.block_count", (uint)config.NumLayers)
        .Add("grok.feed_forward_length", (uint)(config.ResidualMoe ? config.DenseSize : config.ExpertSize))
        .Add("grok.expert_feed_forward_length", (uint)config.ExpertSize)
        .Add("grok.attention.head_count", (uint)config.NumHeads)
        .Add("grok.attention.head_count_kv", (uint)config.NumKvHeads)
        .Add("grok.attention.key_length", (uint)config.HeadDim)
        .Add("grok.attention.value_length", (uint)config.HeadDim)
        .Add("grok.attention.layer_norm_rms_epsilon", (float)config.RmsNormEps)
        .Add("grok.rope.freq_base", (float)config.RopeTheta)
        .Add("grok.rope.dimension_count", (uint)config.HeadDim)
        .Add("grok.expert_count", (uint)config.NumExperts)
        .Add("grok.expert_used_count", (uint)config.TopK)
        .Add("grok.embedding_scale", (float)config.EmbeddingMultiplier)
        .Add("grok.logit_scale", (float)config.OutputMultiplier)
        .Add("grok.attention.output_scale", (float)config.AttnOutputMultiplier)
        .Add("grok.attn_logit_softcapping", (float)config.AttnLogitSoftcap)
        .Add("grok.router_logit_softcapping", (float)(config.ResidualMoe ? config.RouterLogitSoftcap : 30)) // as llama.cpp writes Grok-1
        .Add("grok.final_logit_softcapping", (float)config.FinalLogitSoftcap)
        .Add("grok.attention.temperature_length", (uint)config.AttnTemperatureLen);
}
