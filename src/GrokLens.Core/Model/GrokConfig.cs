using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GrokLens.Model;

/// <summary>
/// Sizes and constants of a Grok-1-architecture model (SPEC §1). Every number the forward pass uses comes from here.
/// </summary>
public sealed record GrokConfig
{
    public string ModelType { get; init; } = "grok-1";
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int NumLayers { get; init; }
    public int NumHeads { get; init; }
    public int NumKvHeads { get; init; }
    public int HeadDim { get; init; }
    public int NumExperts { get; init; }
    public int TopK { get; init; }
    public int ExpertSize { get; init; }
    public int MaxPositions { get; init; }
    public double RopeTheta { get; init; } = 10000;
    public double RmsNormEps { get; init; } = 1e-5;
    public double EmbeddingMultiplier { get; init; } = 78.38367176906169;
    public double OutputMultiplier { get; init; } = 0.5773502691896257;
    public double AttnOutputMultiplier { get; init; } = 0.08838834764831845;
    /// <summary>Attention logits become cap·tanh(x/cap); 0 turns the cap off.</summary>
    public double AttnLogitSoftcap { get; init; } = 30.0;
    public bool TieWordEmbeddings { get; init; } = true;
    /// <summary>Keys whose token id equals this are masked out of attention, as xAI's model.py does for id 0.</summary>
    public int PadTokenId { get; init; }

    public int QueryHeadsPerKvHead => NumHeads / NumKvHeads;

    /// <summary>Grok-1 as released by xAI (SPEC §1).</summary>
    public static GrokConfig Grok1 { get; } = new()
    {
        ModelType = "grok-1",
        VocabSize = 131072,
        HiddenSize = 6144,
        NumLayers = 64,
        NumHeads = 48,
        NumKvHeads = 8,
        HeadDim = 128,
        NumExperts = 8,
        TopK = 2,
        ExpertSize = 32768,
        MaxPositions = 8192,
    };

    /// <summary>Number of stored parameters (the tied embedding counted once).</summary>
    public long ParameterCount
    {
        get
        {
            long d = HiddenSize, q = (long)NumHeads * HeadDim, kv = (long)NumKvHeads * HeadDim;
            long attention = d * q + 2 * d * kv + q * d;
            long moe = 3L * NumExperts * d * ExpertSize + (long)NumExperts * d;
            long perLayer = attention + moe + 4 * d;
            long embeddings = (long)VocabSize * d * (TieWordEmbeddings ? 1 : 2);
            return embeddings + NumLayers * perLayer + d;
        }
    }

    /// <summary>Parameters touched per token: attention, router and only the top-k experts.</summary>
    public long ActiveParameterCount
    {
        get
        {
            long inactiveExperts = NumExperts - TopK;
            return ParameterCount - NumLayers * inactiveExperts * 3L * HiddenSize * ExpertSize;
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public GrokConfig Validated()
    {
        Require(VocabSize > 0, "vocab_size must be positive");
        Require(HiddenSize > 0, "hidden_size must be positive");
        Require(NumLayers > 0, "num_hidden_layers must be positive");
        Require(NumHeads > 0 && NumKvHeads > 0, "num_attention_heads and num_key_value_heads must be positive");
        Require(NumHeads % NumKvHeads == 0,
            $"num_attention_heads ({NumHeads}) must be a multiple of num_key_value_heads ({NumKvHeads})");
        Require(HeadDim > 0 && HeadDim % 2 == 0, $"head_dim ({HeadDim}) must be positive and even (RoPE rotates halves)");
        Require(NumExperts > 0, "num_local_experts must be positive");
        Require(TopK > 0 && TopK <= NumExperts, $"num_experts_per_tok ({TopK}) must be between 1 and {NumExperts}");
        Require(ExpertSize > 0, "moe_intermediate_size must be positive");
        Require(MaxPositions > 0, "max_position_embeddings must be positive");
        Require(RmsNormEps > 0, "rms_norm_eps must be positive");
        Require(RopeTheta > 0, "rope_theta must be positive");
        Require(AttnLogitSoftcap >= 0, "attn_logit_softcapping must not be negative");
        return this;

        static void Require(bool condition, string message)
        {
            if (!condition) throw new ArgumentException("Invalid model config: " + message);
        }
    }

    /// <summary>Reads a Hugging Face style config.json (Grok1ForCausalLM keys).</summary>
    public static GrokConfig FromJsonFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config not found: {path}", path);
        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public static GrokConfig FromJson(string json)
    {
        var root = JsonNode.Parse(json) as JsonObject ?? throw new FormatException("config.json must be a JSON object");
        int vocab = RequiredInt(root, "vocab_size");
        int hidden = RequiredInt(root, "hidden_size");
        int heads = RequiredInt(root, "num_attention_heads");
        return new GrokConfig
        {
            ModelType = root["model_type"]?.GetValue<string>() ?? "grok-1",
            VocabSize = vocab,
            HiddenSize = hidden,
            NumLayers = RequiredInt(root, "num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = OptionalInt(root, "num_key_value_heads") ?? heads,
            HeadDim = OptionalInt(root, "head_dim") ?? hidden / heads,
            NumExperts = OptionalInt(root, "num_local_experts") ?? RequiredInt(root, "num_experts"),
            TopK = RequiredInt(root, "num_experts_per_tok"),
            ExpertSize = OptionalInt(root, "moe_intermediate_size") ?? RequiredInt(root, "intermediate_size"),
            MaxPositions = OptionalInt(root, "max_position_embeddings") ?? 8192,
            RopeTheta = OptionalDouble(root, "rope_theta") ?? 10000,
            RmsNormEps = OptionalDouble(root, "rms_norm_eps") ?? 1e-5,
            EmbeddingMultiplier = OptionalDouble(root, "embedding_multiplier_scale") ?? 78.38367176906169,
            OutputMultiplier = OptionalDouble(root, "output_multiplier_scale") ?? 0.5773502691896257,
            AttnOutputMultiplier = OptionalDouble(root, "attn_output_multiplier") ?? 0.08838834764831845,
            AttnLogitSoftcap = OptionalDouble(root, "attn_logit_softcapping") ?? OptionalDouble(root, "max_attn_value") ?? 30.0,
            TieWordEmbeddings = root["tie_word_embeddings"]?.GetValue<bool>() ?? true,
            PadTokenId = OptionalInt(root, "pad_token_id") ?? 0,
        }.Validated();
    }

    public string ToJson()
    {
        var node = new JsonObject
        {
            ["architectures"] = new JsonArray("Grok1ForCausalLM"),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumLayers,
            ["num_attention_heads"] = NumHeads,
            ["num_key_value_heads"] = NumKvHeads,
            ["head_dim"] = HeadDim,
            ["num_local_experts"] = NumExperts,
            ["num_experts_per_tok"] = TopK,
            ["moe_intermediate_size"] = ExpertSize,
            ["intermediate_size"] = ExpertSize,
            ["max_position_embeddings"] = MaxPositions,
            ["rope_theta"] = RopeTheta,
            ["rms_norm_eps"] = RmsNormEps,
            ["embedding_multiplier_scale"] = EmbeddingMultiplier,
            ["output_multiplier_scale"] = OutputMultiplier,
            ["attn_output_multiplier"] = AttnOutputMultiplier,
            ["attn_logit_softcapping"] = AttnLogitSoftcap,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["pad_token_id"] = PadTokenId,
        };
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static int RequiredInt(JsonObject root, string key) =>
        OptionalInt(root, key) ?? throw new FormatException($"config.json lacks the required key \"{key}\"");

    private static int? OptionalInt(JsonObject root, string key)
    {
        var value = root[key];
        if (value is null) return null;
        try
        {
            double number = value.GetValue<double>();
            if (number != Math.Floor(number) || number < int.MinValue || number > int.MaxValue)
                throw new FormatException($"config.json key \"{key}\" must be an integer, got {number.ToString(CultureInfo.InvariantCulture)}");
            return (int)number;
        }
        catch (InvalidOperationException)
        {
            throw new FormatException($"config.json key \"{key}\" must be a number, got {value.ToJsonString()}");
        }
    }

    private static double? OptionalDouble(JsonObject root, string key)
    {
        var value = root[key];
        if (value is null) return null;
        try
        {
            return value.GetValue<double>();
        }
        catch (InvalidOperationException)
        {
            throw new FormatException($"config.json key \"{key}\" must be a number, got {value.ToJsonString()}");
        }
    }
}
