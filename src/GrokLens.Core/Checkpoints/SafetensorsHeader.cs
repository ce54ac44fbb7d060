using System.Text.Json;

namespace GrokLens.Checkpoints;

/// <summary>
/// Parses and validates the JSON header of a safetensors file against the size of its data section, so that
/// every later read stays inside the file and every tensor's bytes match its dtype and shape.
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>Same cap as the reference Python/Rust implementation: a larger header is surely corrupt.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    private SafetensorsHeader(Dictionary<string, SafetensorsTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <param name="path">File path, for messages.</param>
    /// <param name="json">The header bytes.</param>
    /// <param name="dataLength">Size of the data section that follows the header.</param>
    public static SafetensorsHeader Parse(string path, ReadOnlyMemory<byte> json, long dataLength)
    {
        JsonDocument document;
        try
        {
            // Parse (not ParseValue) so that trailing garbage after the object is rejected too.
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new CheckpointFormatException(path, null, $"the header is not valid JSON ({ex.Message})", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(path, null, $"the header must be a JSON object, found {Describe(root.ValueKind)}");
            }

            var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var metadataSeen = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (metadataSeen)
                    {
                        throw new CheckpointFormatException(path, null, "the header has two __metadata__ entries");
                    }
                    metadataSeen = true;
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }
                if (tensors.ContainsKey(property.Name))
                {
                    throw new CheckpointFormatException(path, property.Name, "the tensor appears twice in the header");
                }
                tensors.Add(property.Name, ReadTensor(path, property.Name, property.Value, dataLength));
            }

            CheckNoOverlap(path, tensors.Values);
            return new SafetensorsHeader(tensors, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException(path, null, $"__metadata__ must be an object of strings, found {Describe(value.ValueKind)}");
        }
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointFormatException(path, null,
                    $"__metadata__ entry '{entry.Name}' must be a string, found {Describe(entry.Value.ValueKind)}");
            }
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static SafetensorsTensorInfo ReadTensor(string path, string name, JsonElement entry, long dataLength)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException(path, name, $"the header entry must be an object, found {Describe(entry.ValueKind)}");
        }

        if (!entry.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new CheckpointFormatException(path, name, "the header entry has no \"dtype\" string");
        }
        var dtypeText = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeText, out var dtype))
        {
            var known = string.Join(", ", Enum.GetNames<SafetensorsDType>());
            throw new CheckpointFormatException(path, name, $"unknown dtype \"{dtypeText}\" (supported: {known})");
        }

        var shape = ReadIntegers(path, name, entry, "shape", expectedCount: null);
        var offsets = ReadIntegers(path, name, entry, "data_offsets", expectedCount: 2);
        long begin = offsets[0], end = offsets[1];

        long elementCount = 1;
        long byteCount;
        try
        {
            foreach (var dim in shape)
            {
                elementCount = checked(elementCount * dim);
            }
            byteCount = checked(elementCount * dtype.ElementSize());
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(path, name, $"shape [{string.Join(", ", shape)}] is too large (its byte size overflows 64 bits)");
        }

        if (begin > end)
        {
            throw new CheckpointFormatException(path, name, $"data_offsets [{begin}, {end}] begin after they end");
        }
        if (end > dataLength)
        {
            throw new CheckpointFormatException(path, name,
                $"data_offsets [{begin}, {end}] reach outside the data section, which has only {dataLength} bytes " +
                "(the file may be truncated)");
        }
        if (end - begin != byteCount)
        {
            throw new CheckpointFormatException(path, name,
                $"data_offsets [{begin}, {end}] span {end - begin} bytes, but dtype {dtype} with shape " +
                $"[{string.Join(", ", shape)}] needs {byteCount} bytes ({elementCount} elements × {dtype.ElementSize()} bytes)");
        }
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] ReadIntegers(string path, string name, JsonElement entry, string field, int? expectedCount)
    {
        if (!entry.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointFormatException(path, name, $"the header entry has no \"{field}\" array");
        }
        var values = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var value) || value < 0)
            {
                throw new CheckpointFormatException(path, name,
                    $"\"{field}\" must hold non-negative integers, found {item.GetRawText()}");
            }
            values.Add(value);
        }
        if (expectedCount is { } count && values.Count != count)
        {
            throw new CheckpointFormatException(path, name, $"\"{field}\" must have {count} entries, found {values.Count}");
        }
        return values.ToArray();
    }

    /// <summary>Two tensors sharing bytes would silently alias each other's data; empty tensors own no bytes.</summary>
    private static void CheckNoOverlap(string path, IEnumerable<SafetensorsTensorInfo> tensors)
    {
        SafetensorsTensorInfo? previous = null;
        foreach (var tensor in tensors.Where(t => t.End > t.Begin).OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (previous is not null && tensor.Begin < previous.End)
            {
                throw new CheckpointFormatException(path, tensor.Name,
                    $"its data_offsets [{tensor.Begin}, {tensor.End}] overlap those of tensor '{previous.Name}' " +
                    $"[{previous.Begin}, {previous.End}]");
            }
            previous = tensor;
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
