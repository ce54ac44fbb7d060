using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Loading.Naming;
using GrokLens.Model;

namespace GrokLens.Loading.Gguf;

/// <summary>
/// Builds a <see cref="GrokConfig"/> from the metadata of a GGUF file of arch <c>grok</c> (SPEC §3.3): the generic
/// llama.cpp keys, plus the Grok keys with llama.cpp's defaults for old files. GGUF stores the multipliers as float32.
/// </summary>
public static class GgufGrokConfig
{
    public static GrokConfig FromFile(GgufFile file)
    {
        var arch = file.Value("general.architecture") as string;
        if (arch != "grok")
            throw new CheckpointFormatException(file.Path, null,
                $"general.architecture is '{arch ?? "(missing)"}'; GrokLens reads GGUF files of arch 'grok'");

        int hidden = Int(file, "grok.embedding_length");
        int heads = Int(file, "grok.attention.head_count");
        int headDim = OptionalInt(file, "grok.attention.key_length") ?? (heads > 0 ? hidden / heads : 0);
        int feedForward = Int(file, "grok.feed_forward_length");
        int vocab = file.Value("tokenizer.ggml.tokens") is object[] tokens ? tokens.Length
            : file.Contains("token_embd.weight") ? (int)file.Info("token_embd.weight").Dimensions[^1]
            : throw new CheckpointFormatException(file.Path, "token_embd.weight", "missing: the vocabulary size cannot be determined");
        // Grok-2 files hold a dense MLP beside the experts; llama.cpp's converter writes grok.router_logit_softcapping = 30
        // into Grok-1 files too, but xAI's Grok-1 has no router cap (SPEC §2.5, §7 row 2), so it applies to Grok-2 only.
        bool residualMoe = file.Contains(TensorNameTables.Gguf.PreferredName(new WeightId(WeightKind.DenseGate, 0)));
        try
        {
            return new GrokConfig
            {
                ModelType = residualMoe ? "grok-2" : "grok-1",
                VocabSize = vocab,
                HiddenSize = hidden,
                NumLayers = Int(file, "grok.block_count"),
                NumHeads = heads,
                NumKvHeads = OptionalInt(file, "grok.attention.head_count_kv") ?? heads,
                HeadDim = headDim,
                NumExperts = Int(file, "grok.expert_count"),
                TopK = Int(file, "grok.expert_used_count"),
                ExpertSize = OptionalInt(file, "grok.expert_feed_forward_length") ?? feedForward,
                ResidualMoe = residualMoe,
                DenseSize = residualMoe ? feedForward : 0,
                MaxPositions = OptionalInt(file, "grok.context_length") ?? 8192,
                RopeTheta = OptionalDouble(file, "grok.rope.freq_base") ?? 10000,
                RmsNormEps = OptionalDouble(file, "grok.attention.layer_norm_rms_epsilon")
                             ?? throw Missing(file, "grok.attention.layer_norm_rms_epsilon"),
                // Missing multipliers follow the model's own sizes (which give Grok-1's constants for Grok-1's sizes).
                EmbeddingMultiplier = OptionalDouble(file, "grok.embedding_scale") ?? Math.Sqrt(hidden),
                OutputMultiplier = OptionalDouble(file, "grok.logit_scale") ?? 0.5773502691896257,
                AttnOutputMultiplier = OptionalDouble(file, "grok.attention.output_scale") ?? (headDim > 0 ? 1 / Math.Sqrt(headDim) : 0),
                AttnLogitSoftcap = OptionalDouble(file, "grok.attn_logit_softcapping") ?? 30.0,
                RouterLogitSoftcap = residualMoe ? OptionalDouble(file, "grok.router_logit_softcapping") ?? 30.0 : 0,
                FinalLogitSoftcap = OptionalDouble(file, "grok.final_logit_softcapping") ?? 0,
                AttnTemperatureLen = OptionalInt(file, "grok.attention.temperature_length") ?? 0,
                TieWordEmbeddings = !file.Contains(TensorNameTables.Gguf.PreferredName(WeightId.Global(WeightKind.OutputHead))),
                PadTokenId = OptionalInt(file, "tokenizer.ggml.padding_token_id") ?? 0,
            }.Validated();
        }
        catch (ArgumentException e)
        {
            throw new CheckpointFormatException(file.Path, null, e.Message, e);
        }
    }

    private static int Int(GgufFile file, string key) => OptionalInt(file, key) ?? throw Missing(file, key);

    private static int? OptionalInt(GgufFile file, string key) => file.Value(key) switch
    {
        null => null,
        long value when value is >= 0 and <= int.MaxValue => (int)value,
        var other => throw new CheckpointFormatException(file.Path, null, $"metadata key '{key}' must be a non-negative integer, got {other}"),
    };

    private static double? OptionalDouble(GgufFile file, string key) => file.Value(key) switch
    {
        null => null,
        double value => value,
        long value => value,
        var other => throw new CheckpointFormatException(file.Path, null, $"metadata key '{key}' must be a number, got {other}"),
    };

    private static CheckpointFormatException Missing(GgufFile file, string key) =>
        new(file.Path, null, $"the required metadata key '{key}' is missing");
}
