using GrokLens.Analysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace GrokLens.Dumps;

/// <summary>
/// manifest.json of a dump (schema in docs/dump-format.md). Plain data: <see cref="DumpReader"/> validates it against
/// the files, <see cref="DumpBuilder"/> fills it in.
/// </summary>
public sealed record DumpManifest
{
    public required string Format { get; init; }
    public required int FormatVersion { get; init; }
    public required string GroklensVersion { get; init; }
    public required DateTimeOffset CreatedUtc { get; init; }

    /// <summary><see cref="DumpFormat.ActivationsKind"/> or <see cref="DumpFormat.ReductionsKind"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>False while a batch capture is still adding runs (the runs listed are complete).</summary>
    public required bool Complete { get; init; }

    public required DumpModelInfo Model { get; init; }
    public required DumpTokenizerInfo? Tokenizer { get; init; }
    public required IReadOnlyList<DumpRun> Runs { get; init; }

    /// <summary>Present when <see cref="Kind"/> is reductions.</summary>
    public DumpReductions? Reductions { get; init; }

    /// <summary>Every data file with its size and SHA-256.</summary>
    public required IReadOnlyList<DumpFile> Files { get; init; }

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
        MaxDepth = 64,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>
    /// Parses manifest JSON (UTF-8); schema problems become <see cref="DumpFormatException"/> naming <paramref name="location"/>.
    /// The bytes are read straight into the records (no string copy, no document tree), so memory stays a small
    /// multiple of the manifest's size.
    /// </summary>
    public static DumpManifest FromJson(ReadOnlySpan<byte> json, string location)
    {
        var (format, version) = FormatAndVersion(json, location);
        // Check format and version before the schema, so a future version gets a version message, not a schema one.
        if (format != DumpFormat.Name)
            throw new DumpFormatException(location, $"manifest.json's \"format\" is {(format is null ? "missing" : $"'{format}'")}, expected '{DumpFormat.Name}'");
        if (version is null) throw new DumpFormatException(location, "manifest.json has no integer \"format_version\"");
        if (version > DumpFormat.Version)
            throw new DumpFormatException(location,
                $"the dump has format version {version}, newer than this GrokLens {GrokLensInfo.Version} reads (up to {DumpFormat.Version}); update GrokLens");
        if (version < 1) throw new DumpFormatException(location, $"format version {version} is not valid");
        try
        {
            return JsonSerializer.Deserialize<DumpManifest>(json, JsonOptions)
                   ?? throw new DumpFormatException(location, "manifest.json holds null");
        }
        catch (JsonException e)
        {
            throw new DumpFormatException(location, $"manifest.json does not match the schema: {e.Message}", e);
        }
    }

    /// <summary>The top-level "format" string and "format_version" integer (null when absent or of another type).</summary>
    private static (string? Format, int? Version) FormatAndVersion(ReadOnlySpan<byte> json, string location)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = JsonOptions.MaxDepth });
        string? format = null;
        int? version = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new DumpFormatException(location, "manifest.json must hold a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                if (name == "format" && reader.TokenType == JsonTokenType.String) format = reader.GetString();
                else if (name == "format_version" && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number)) version = number;
                else reader.Skip();
            }
        }
        catch (JsonException e)
        {
            throw new DumpFormatException(location, $"manifest.json is not valid JSON ({e.Message})", e);
        }
        return (format, version);
    }
}

/// <summary>
/// The model a dump was made with. <see cref="Config"/> is its config.json; its weights are identified by
/// <see cref="WeightsFingerprint"/> (format version 2 on) or, in version 1 dumps, by <see cref="WeightsSha256"/>
/// (docs/dump-format.md).
/// </summary>
public sealed record DumpModelInfo
{
    public required string Name { get; init; }
    public required JsonObject Config { get; init; }

    /// <summary>The weights' fingerprint (<see cref="Dumps.WeightsFingerprint"/>), or null for generated (random) weights.</summary>
    public string? WeightsFingerprint { get; init; }

    /// <summary>Version 1 dumps only: SHA-256 over the weight files' "sha256␣␣name" lines, or null for generated weights.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WeightsSha256 { get; init; }

    public required IReadOnlyList<DumpWeightFile> WeightFiles { get; init; }

    /// <summary>Whether the dump records the weights of a file checkpoint (false: generated weights).</summary>
    [JsonIgnore]
    public bool HasWeights => WeightsFingerprint is not null || WeightsSha256 is not null;

    /// <summary>
    /// True or false when both dumps identify their weights the same way (fingerprint, or version 1's SHA-256), or when
    /// one has file weights and the other generated ones (false); null when that cannot tell (two dumps of generated
    /// weights, or one dump of each identification): compare name and config then.
    /// </summary>
    public bool? SameWeights(DumpModelInfo other)
    {
        if (WeightsFingerprint is { } a && other.WeightsFingerprint is { } b) return a == b;
        if (WeightsSha256 is { } oldA && other.WeightsSha256 is { } oldB) return oldA == oldB;
        if (HasWeights != other.HasWeights) return false;
        return null;
    }

    /// <summary>A short form of the weights' identity for messages ("fingerprint 3f2a…", "SHA-256 9ab1…"), or null.</summary>
    [JsonIgnore]
    public string? ShortIdentity =>
        WeightsFingerprint is { } f ? $"weights fingerprint {f[..Math.Min(12, f.Length)]}…"
        : WeightsSha256 is { } h ? $"weights SHA-256 {h[..Math.Min(12, h.Length)]}…" : null;
}

/// <summary>One weight file of the model: its name, size and fingerprint (version 1 dumps: its whole-file SHA-256).</summary>
public sealed record DumpWeightFile
{
    public required string Name { get; init; }
    public required long Bytes { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Fingerprint { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Sha256 { get; init; }
}

/// <summary>What turns text into the token ids of the runs.</summary>
public sealed record DumpTokenizerInfo
{
    /// <summary>The tokenizer's .NET type name, e.g. GrokSentencePieceTokenizer or CompactTokenizer.</summary>
    public required string Type { get; init; }
    public required int VocabSize { get; init; }
    public int? BosId { get; init; }
    public int? EosId { get; init; }
    public required int PadId { get; init; }
}

/// <summary>One prompt run: its tokens, the interventions applied and where each captured hook is stored.</summary>
public sealed record DumpRun
{
    public required string Id { get; init; }
    public required string? Prompt { get; init; }
    public required IReadOnlyList<int> TokenIds { get; init; }

    /// <summary>Raw SentencePiece pieces per token, or null when the model has no tokenizer.</summary>
    public required IReadOnlyList<string>? Pieces { get; init; }

    /// <summary>The interventions applied, as InterventionJson writes them (a JSON array).</summary>
    public required JsonArray Interventions { get; init; }

    public required IReadOnlyList<DumpTensor> Hooks { get; init; }
}

/// <summary>One stored tensor: what it is (hook or reduction name), where (file and tensor name), shape, dtype, meaning.</summary>
public sealed record DumpTensor
{
    public required string Name { get; init; }
    public required string File { get; init; }
    public required string Tensor { get; init; }
    public required string Dtype { get; init; }
    public required IReadOnlyList<long> Shape { get; init; }
    public required string Meaning { get; init; }
}

/// <summary>A file of the dump (or of the model's weights) with its byte size and SHA-256 (lowercase hex).</summary>
public sealed record DumpFile
{
    public required string Name { get; init; }
    public required long Bytes { get; init; }
    public required string Sha256 { get; init; }
}

/// <summary>Reductions over all runs of a reductions dump.</summary>
public sealed record DumpReductions
{
    /// <summary>Hooks reduced to per-neuron mean and max.</summary>
    public required IReadOnlyList<string> Hooks { get; init; }

    public required long Tokens { get; init; }

    public required IReadOnlyList<DumpRoutingStatistics> Routing { get; init; }

    /// <summary>The stored reduction tensors (expert counts, sums, means, maxima, counts).</summary>
    public required IReadOnlyList<DumpTensor> Tensors { get; init; }
}

/// <summary>Routing statistics of one layer over every run (see Analysis/RoutingStatistics).</summary>
public sealed record DumpRoutingStatistics
{
    public required int Layer { get; init; }
    public required IReadOnlyList<long> ExpertCounts { get; init; }
    public required IReadOnlyList<double> ExpertShares { get; init; }

    /// <summary>Over runs with at least two tokens; null when there were none.</summary>
    public required double? SameFirstExpertRate { get; init; }
    public required double? TopKOverlapRate { get; init; }

    /// <summary>Neighbour-token pairs the two rates are measured on (a run of n tokens has n − 1).</summary>
    public required long RatePairs { get; init; }
}
