using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TorchSharp;

namespace GrokLens.Checkpoints;

/// <summary>
/// Writes tensors in the safetensors format, in their own dtype, the way the Python library lays files out:
/// header padded with spaces to a multiple of 8 bytes, data packed in the given order. Files are written to a
/// temporary name in the same folder and renamed, so a reader never sees a half-written file.
/// </summary>
public static class SafetensorsWriter
{
    public const string IndexFileName = "model.safetensors.index.json";

    public static void Write(
        string path,
        IEnumerable<(string Name, torch.Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null,
        bool overwrite = false)
    {
        path = Path.GetFullPath(path);
        RefuseOverwrite(path, overwrite);
        var entries = Describe(tensors);
        WriteAtomically(path, stream => WriteEntries(stream, entries, metadata));
    }

    /// <summary>Writes one safetensors file to <paramref name="stream"/> (e.g. a zip entry); the caller owns atomicity.</summary>
    public static void WriteTo(
        Stream stream,
        IEnumerable<(string Name, torch.Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteEntries(stream, Describe(tensors), metadata);

    private static void WriteEntries(Stream stream, List<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var header = BuildHeader(entries, metadata);
        Span<byte> lengthField = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthField, (ulong)header.Length);
        stream.Write(lengthField);
        stream.Write(header);
        foreach (var entry in entries)
        {
            WriteData(entry.Tensor, stream);
        }
    }

    /// <summary>
    /// Writes a Hugging Face style sharded checkpoint: <c>model-00001-of-0000N.safetensors</c> files of at most
    /// <paramref name="maxShardBytes"/> of tensor data each (a larger tensor gets a shard of its own), and
    /// <c>model.safetensors.index.json</c> mapping each tensor to its shard. Returns the shard file names.
    /// </summary>
    public static IReadOnlyList<string> WriteSharded(
        string directory,
        IEnumerable<(string Name, torch.Tensor Tensor)> tensors,
        long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null,
        bool overwrite = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        directory = Path.GetFullPath(directory);
        var entries = Describe(tensors);

        // Greedy packing in the given order keeps related tensors together, like the Python helpers.
        var shards = new List<List<Entry>>();
        long currentBytes = 0;
        foreach (var entry in entries)
        {
            if (shards.Count == 0 || (currentBytes + entry.ByteLength > maxShardBytes && shards[^1].Count > 0))
            {
                shards.Add([]);
                currentBytes = 0;
            }
            shards[^1].Add(entry);
            currentBytes += entry.ByteLength;
        }
        if (shards.Count == 0)
        {
            shards.Add([]);
        }

        var names = Enumerable.Range(1, shards.Count)
            .Select(i => $"model-{i:D5}-of-{shards.Count:D5}.safetensors")
            .ToList();
        var indexPath = Path.Combine(directory, IndexFileName);
        RefuseOverwrite(indexPath, overwrite);
        foreach (var name in names)
        {
            RefuseOverwrite(Path.Combine(directory, name), overwrite);
        }

        Directory.CreateDirectory(directory);
        for (var i = 0; i < shards.Count; i++)
        {
            Write(Path.Combine(directory, names[i]), shards[i].Select(e => (e.Name, e.Tensor)), metadata, overwrite);
        }

        // The index goes last: its presence means every shard it names is complete.
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", entries.Sum(e => e.ByteLength));
            foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            {
                if (key != "total_size")
                {
                    json.WriteString(key, value);
                }
            }
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            for (var i = 0; i < shards.Count; i++)
            {
                foreach (var entry in shards[i])
                {
                    json.WriteString(entry.Name, names[i]);
                }
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        WriteAtomically(indexPath, stream => buffer.WriteTo(stream));
        return names;
    }

    private sealed record Entry(string Name, torch.Tensor Tensor, SafetensorsDType DType, long[] Shape, long ByteLength);

    private static List<Entry> Describe(IEnumerable<(string Name, torch.Tensor Tensor)> tensors)
    {
        var entries = new List<Entry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor);
            if (string.IsNullOrEmpty(name) || name == SafetensorsHeader.MetadataKey)
            {
                throw new ArgumentException($"'{name}' cannot be used as a tensor name.", nameof(tensors));
            }
            if (!seen.Add(name))
            {
                throw new ArgumentException($"Tensor '{name}' is given twice.", nameof(tensors));
            }
            var dtype = SafetensorsDTypes.FromScalarType(tensor.dtype)
                ?? throw new ArgumentException($"Tensor '{name}' has dtype {tensor.dtype}, which safetensors writing does not support here.", nameof(tensors));
            entries.Add(new Entry(name, tensor, dtype, tensor.shape, tensor.NumberOfElements * dtype.ElementSize()));
        }
        return entries;
    }

    private static byte[] BuildHeader(List<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var entry in entries)
            {
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", entry.DType.HeaderName());
                json.WriteStartArray("shape");
                foreach (var dim in entry.Shape)
                {
                    json.WriteNumberValue(dim);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + entry.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += entry.ByteLength;
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data section starts 8-byte aligned (valid JSON whitespace, as in Python).
        var padding = (int)((8 - buffer.Length % 8) % 8);
        buffer.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        return buffer.ToArray();
    }

    private static void WriteData(torch.Tensor tensor, Stream stream)
    {
        // Each step may or may not return a new native tensor; disposing twice is harmless in TorchSharp.
        using var detached = tensor.detach();
        using var onCpu = detached.cpu();
        using var contiguous = onCpu.contiguous();
        using var flat = contiguous.reshape(contiguous.NumberOfElements);
        TensorBytes.CopyTo(flat, stream);
    }

    private static void RefuseOverwrite(string path, bool overwrite)
    {
        if (!overwrite && File.Exists(path))
        {
            throw new IOException($"{path} already exists; pass overwrite: true to replace it.");
        }
    }

    /// <summary>See <see cref="Files.AtomicFile.Write"/>.</summary>
    internal static void WriteAtomically(string path, Action<Stream> write) => Files.AtomicFile.Write(path, write);
}
