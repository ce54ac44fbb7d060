using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GrokLens.Model;

/// <summary>
/// Reads and writes a Hugging Face style <c>config.json</c> (Grok1ForCausalLM keys, which Grok-1 and Grok-2 share). A
/// missing multiplier is derived from the model's own sizes: embedding × √d, attention logits × head_dim^-½. What
/// GrokLens cannot run faithfully (RoPE scaling other than plain/"original", sliding windows) is refused, not ignored.
/// </summary>
public static class GrokConfigJson
{
    /// <summary>A config.json is a few KB; reading stops here so a hostile file (or a link to /dev/zero) cannot exhaust memory.</summary>
    public const int MaxFileBytes = 1 << 20;

    public static GrokConfig ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config not found: {path}", path);
        try
        {
            return Read(ReadBounded(path));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static string ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        var buffer = new byte[MaxFileBytes + 1];
        int total = 0, read;
        while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0) total += read;
        if (total > MaxFileBytes)
            throw new InvalidDataException($"{path}: larger than {MaxFileBytes / 1024} KB; a model's config.json is a few KB.");
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    public static GrokConfig Read(string json)
    {
        var root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 16 }) as JsonObject
                   ?? throw new FormatException("config.json must be a JSON object");
        RefuseUnfaithfulSettings(root);
        int vocab = RequiredInt(root, "vocab_size");
        int hidden = RequiredInt(root, "hidden_size");
        int heads = RequiredInt(root, "num_attention_heads");
        int headDim = OptionalInt(root, "head_dim") ?? (heads > 0 ? hidden / heads : 0);
        bool residualMoe = OptionalBool(root, "residual_moe") ?? false;
        var outputMultiplier = OptionalDouble(root, "output_multiplier_scale");
        if (residualMoe && outputMultiplier is null)
            throw new FormatException("config.json of a residual-MoE (Grok-2) model must give \"output_multiplier_scale\" (0.5 in xai-org/grok-2)");
        return new GrokConfig
        {
            ModelType = OptionalString(root, "model_type") ?? "grok-1",
            VocabSize = vocab,
            HiddenSize = hidden,
            NumLayers = RequiredInt(root, "num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = OptionalInt(root, "num_key_value_heads") ?? heads,
            HeadDim = headDim,
            NumExperts = OptionalInt(root, "num_local_experts") ?? RequiredInt(root, "num_experts"),
            TopK = RequiredInt(root, "num_experts_per_tok"),
            // Grok-2 names the experts' width moe_intermediate_size and the dense MLP's intermediate_size; Grok-1 configs
            // may give only intermediate_size, the experts' width.
            ExpertSize = residualMoe ? RequiredInt(root, "moe_intermediate_size")
                : OptionalInt(root, "moe_intermediate_size") ?? RequiredInt(root, "intermediate_size"),
            ResidualMoe = residualMoe,
            DenseSize = residualMoe ? RequiredInt(root, "intermediate_size") : 0,
            MaxPositions = OptionalInt(root, "max_position_embeddings") ?? 8192,
            RopeTheta = OptionalDouble(root, "rope_theta") ?? 10000,
            RmsNormEps = OptionalDouble(root, "rms_norm_eps") ?? 1e-5,
            EmbeddingMultiplier = OptionalDouble(root, "embedding_multiplier_scale") ?? Math.Sqrt(hidden),
            // Absent from a Grok-1 config, Hugging Face's Grok1 config class supplies xAI's 3^-½.
            OutputMultiplier = outputMultiplier ?? 0.5773502691896257,
            AttnOutputMultiplier = OptionalDouble(root, "attn_output_multiplier") ?? (headDim > 0 ? 1 / Math.Sqrt(headDim) : 0),
            AttnLogitSoftcap = OptionalDouble(root, "attn_logit_softcapping") ?? OptionalDouble(root, "max_attn_value") ?? 30.0,
            RouterLogitSoftcap = OptionalDouble(root, "router_logit_softcapping") ?? 0,
            FinalLogitSoftcap = OptionalDouble(root, "final_logit_softcapping") ?? 0,
            AttnTemperatureLen = OptionalInt(root, "attn_temperature_len") ?? 0,
            TieWordEmbeddings = OptionalBool(root, "tie_word_embeddings") ?? true,
            PadTokenId = OptionalInt(root, "pad_token_id") ?? 0,
        }.Validated();
    }

    /// <summary>Settings of Grok-2's config that would change the computation in ways GrokLens does not implement.</summary>
    private static void RefuseUnfaithfulSettings(JsonObject root)
    {
        var ropeType = OptionalString(root, "rope_type");
        if (root["rope_scaling"] is JsonObject scaling)
            ropeType ??= OptionalString(scaling, "rope_type") ?? OptionalString(scaling, "type");
        else if (root["rope_scaling"] is { } other)
            throw new FormatException($"config.json key \"rope_scaling\" must be an object or null, got {Shown(other)}");
        if (ropeType is not (null or "default" or "original"))
            throw new FormatException(
                $"RoPE scaling \"{ropeType}\" is not supported: GrokLens runs plain RoPE, which is what SGLang's \"original\" " +
                "(Grok-2's setting) computes; a model trained with other scaling would be run unfaithfully");
        if (OptionalInt(root, "sliding_window_size") is int window && window > 0)
            throw new FormatException($"sliding_window_size {window} is not supported: GrokLens attends to every earlier position (Grok uses -1)");
        if (OptionalInt(root, "global_attn_every_n") is int every && every != 1)
            throw new FormatException($"global_attn_every_n {every} is not supported: every Grok layer attends globally (1)");
    }

    public static string Write(GrokConfig c)
    {
        var node = new JsonObject
        {
            ["architectures"] = new JsonArray("Grok1ForCausalLM"),
            ["model_type"] = c.ModelType,
            ["vocab_size"] = c.VocabSize,
            ["hidden_size"] = c.HiddenSize,
            ["num_hidden_layers"] = c.NumLayers,
            ["num_attention_heads"] = c.NumHeads,
            ["num_key_value_heads"] = c.NumKvHeads,
            ["head_dim"] = c.HeadDim,
            ["num_local_experts"] = c.NumExperts,
            ["num_experts_per_tok"] = c.TopK,
            ["moe_intermediate_size"] = c.ExpertSize,
            ["intermediate_size"] = c.ResidualMoe ? c.DenseSize : c.ExpertSize,
            ["max_position_embeddings"] = c.MaxPositions,
            ["rope_theta"] = c.RopeTheta,
            ["rms_norm_eps"] = c.RmsNormEps,
            ["embedding_multiplier_scale"] = c.EmbeddingMultiplier,
            ["output_multiplier_scale"] = c.OutputMultiplier,
            ["attn_output_multiplier"] = c.AttnOutputMultiplier,
            ["attn_logit_softcapping"] = c.AttnLogitSoftcap,
            ["tie_word_embeddings"] = c.TieWordEmbeddings,
            ["pad_token_id"] = c.PadTokenId,
        };
        if (c.ResidualMoe) node["residual_moe"] = true;
        if (c.RouterLogitSoftcap != 0) node["router_logit_softcapping"] = c.RouterLogitSoftcap;
        if (c.FinalLogitSoftcap != 0) node["final_logit_softcapping"] = c.FinalLogitSoftcap;
        if (c.AttnTemperatureLen != 0) node["attn_temperature_len"] = c.AttnTemperatureLen;
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static int RequiredInt(JsonObject root, string key) =>
        OptionalInt(root, key) ?? throw new FormatException($"config.json lacks the required key \"{key}\"");

    private static int? OptionalInt(JsonObject root, string key)
    {
        if (Number(root, key, "an integer") is not double number) return null;
        if (number != Math.Floor(number) || number < int.MinValue || number > int.MaxValue)
            throw new FormatException($"config.json key \"{key}\" must be an integer, got {number.ToString(CultureInfo.InvariantCulture)}");
        return (int)number;
    }

    private static double? OptionalDouble(JsonObject root, string key) => Number(root, key, "a number");

    private static double? Number(JsonObject root, string key, string what) => root[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.Number => value.GetValue<double>(),
        var other => throw new FormatException($"config.json key \"{key}\" must be {what}, got {Shown(other)}"),
    };

    private static bool? OptionalBool(JsonObject root, string key) => root[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() is JsonValueKind.True or JsonValueKind.False => value.GetValue<bool>(),
        var other => throw new FormatException($"config.json key \"{key}\" must be true or false, got {Shown(other)}"),
    };

    private static string? OptionalString(JsonObject root, string key) => root[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        var other => throw new FormatException($"config.json key \"{key}\" must be a string, got {Shown(other)}"),
    };

    /// <summary>A value as written, cut short: messages quote what the user wrote, not .NET type names.</summary>
    private static string Shown(JsonNode node)
    {
        var text = node.ToJsonString();
        return text.Length <= 40 ? text : text[..40] + "…";
    }
}
