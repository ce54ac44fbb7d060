using System.Buffers.Binary;
using TorchSharp;

namespace GrokLens.Checkpoints.Gguf;

/// <summary>
/// A GGUF file (version 2 or 3), memory-mapped and validated at <see cref="Open"/>: magic, version, counts, string
/// lengths, types, dims against block sizes, alignment and every tensor's byte range. Tensors are read lazily.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    public const int DefaultAlignment = 32;
    private const int MaxDimensions = 4;

    private readonly MappedFile _file;
    private readonly Dictionary<string, GgufTensorInfo> _tensors;

    private GgufFile(MappedFile file, uint version, Dictionary<string, object> metadata,
        Dictionary<string, GgufTensorInfo> tensors, IReadOnlyList<string> order, long dataStart)
    {
        _file = file;
        Version = version;
        Metadata = metadata;
        _tensors = tensors;
        TensorNames = order;
        DataStart = dataStart;
    }

    public string Path => _file.Path;
    public uint Version { get; }

    /// <summary>Metadata values: long for integers, double for floats, bool, string; arrays as long[], double[], bool[] or string[].</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    /// <summary>Tensor names in file order.</summary>
    public IReadOnlyList<string> TensorNames { get; }

    public long DataStart { get; }

    public static GgufFile Open(string path)
    {
        var file = MappedFile.Open(path);
        try
        {
            return Parse(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static GgufFile Parse(MappedFile file)
    {
        var reader = new GgufHeaderReader(file);
        if (file.Length < 24) throw reader.Error($"the file is {file.Length} bytes long, too short for a GGUF header");
        if (reader.UInt32() != Magic) throw reader.Error("not a GGUF file (the first four bytes are not \"GGUF\")");
        var version = reader.UInt32();
        if (version is not (2 or 3))
            throw reader.Error($"GGUF version {version} is not supported (versions 2 and 3 are)");
        // A tensor entry takes at least 8+4+8+4+8 bytes; a key/value at least 8+4+1.
        var tensorCount = reader.Count("the tensor count", 32);
        var keyCount = reader.Count("the metadata key count", 13);

        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (long i = 0; i < keyCount; i++)
        {
            var key = reader.String("a metadata key");
            var type = (GgufValueType)reader.UInt32();
            // A dictionary entry with its key and a boxed value: about 80 bytes besides the key's characters.
            reader.Charge(key, 80 + 2L * key.Length);
            var value = reader.Value(type, key);
            if (!metadata.TryAdd(key, value)) throw reader.Error($"metadata key '{key}' appears twice");
        }

        int alignment = DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out var alignmentValue))
        {
            if (alignmentValue is not long a || a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0)
                throw reader.Error($"general.alignment must be a power of two up to 2^20, got {alignmentValue}");
            alignment = (int)a;
        }

        var tensors = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
        var order = new List<string>();
        for (long i = 0; i < tensorCount; i++)
        {
            var info = ReadTensorInfo(reader, alignment);
            if (!tensors.TryAdd(info.Name, info)) throw reader.Error("the tensor is listed twice", info.Name);
            order.Add(info.Name);
        }

        var dataStart = (reader.Position + alignment - 1) / alignment * alignment;
        var dataLength = file.Length - dataStart;
        foreach (var info in tensors.Values)
        {
            if (info.Offset > dataLength || info.ByteLength > dataLength - info.Offset)
                throw reader.Error($"its data ({info.ByteLength} bytes at offset {info.Offset}) lies beyond the end of the file " +
                                   $"({dataLength} bytes of data; the file is truncated)", info.Name);
        }
        CheckNoOverlap(reader, tensors.Values);
        return new GgufFile(file, version, metadata, tensors, order, dataStart);
    }

    private static GgufTensorInfo ReadTensorInfo(GgufHeaderReader reader, int alignment)
    {
        var name = reader.String("a tensor name");
        var dimensionCount = reader.UInt32();
        if (dimensionCount is 0 or > MaxDimensions)
            throw reader.Error($"{dimensionCount} dimensions; GGUF tensors have 1 to {MaxDimensions}", name);
        var dims = new long[dimensionCount];
        long elements = 1;
        for (int d = 0; d < dimensionCount; d++)
        {
            var dim = reader.UInt64();
            if (dim == 0 || dim > long.MaxValue / 64) throw reader.Error($"dimension {d} is {dim}", name);
            dims[d] = (long)dim;
            try
            {
                elements = checked(elements * dims[d]);
            }
            catch (OverflowException)
            {
                throw reader.Error("its element count overflows", name);
            }
        }
        var rawType = reader.UInt32();
        if (!GgmlTypes.IsKnown(rawType))
            throw reader.Error($"tensor type {GgmlTypes.NameOf(rawType)} is not supported (GrokLens reads F32, F16, BF16 and Q8_0)", name);
        var type = (GgmlType)rawType;
        if (dims[0] % type.BlockElements() != 0)
            throw reader.Error($"its innermost dimension {dims[0]} is not a multiple of the {type} block size {type.BlockElements()}", name);
        if (elements / type.BlockElements() > long.MaxValue / type.BlockBytes())
            throw reader.Error($"its dimensions [{string.Join(", ", dims)}] need more bytes than any file can hold", name);
        var offset = reader.UInt64();
        if (offset % (ulong)alignment != 0 || offset > long.MaxValue)
            throw reader.Error($"its data offset {offset} is not a multiple of the alignment {alignment}", name);
        return new GgufTensorInfo(name, type, dims, (long)offset);
    }

    /// <summary>Two tensors sharing bytes would alias each other's weights; safetensors refuses that, and so does GGUF here.</summary>
    private static void CheckNoOverlap(GgufHeaderReader reader, IEnumerable<GgufTensorInfo> tensors)
    {
        GgufTensorInfo? previous = null;
        foreach (var info in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.Offset))
        {
            if (previous is not null && info.Offset < previous.Offset + previous.ByteLength)
                throw reader.Error($"its data (bytes {info.Offset}…{info.Offset + info.ByteLength} of the data section) overlaps " +
                                   $"tensor '{previous.Name}' (bytes {previous.Offset}…{previous.Offset + previous.ByteLength})", info.Name);
            previous = info;
        }
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public GgufTensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new CheckpointFormatException(Path, name, "no such tensor in this file");

    /// <summary>The tensor's stored bytes (for quantised reading).</summary>
    internal byte* DataPointer(GgufTensorInfo info) => _file.Start + DataStart + info.Offset;

    /// <summary>Reads a tensor as float32 in PyTorch order (<see cref="GgufTensorInfo.Shape"/>), dequantising Q8_0 exactly as ggml.</summary>
    public torch.Tensor LoadFloat32(string name)
    {
        var info = Info(name);
        if (info.Type == GgmlType.Q8_0)
        {
            using var quantized = LoadQuantized(name);
            return quantized.Dequantize();
        }
        var stored = info.Type switch
        {
            GgmlType.F32 => torch.ScalarType.Float32,
            GgmlType.F16 => torch.ScalarType.Float16,
            _ => torch.ScalarType.BFloat16,
        };
        using var raw = torch.empty(info.ElementCount, dtype: stored);
        TensorBytes.CopyInto(raw, DataPointer(info), info.ByteLength);
        using var shaped = raw.reshape(info.Shape);
        return shaped.to_type(torch.ScalarType.Float32, copy: true);
    }

    /// <summary>A Q8_0 tensor as int8 values with one float32 scale per block of 32 (PyTorch order).</summary>
    public QuantizedWeight LoadQuantized(string name)
    {
        var info = Info(name);
        if (info.Type != GgmlType.Q8_0) throw new CheckpointFormatException(Path, name, $"stored as {info.Type}, not Q8_0");
        return Q8_0.Read(DataPointer(info), info.Shape);
    }

    /// <summary>A metadata value, or null when absent.</summary>
    public object? Value(string key) => Metadata.TryGetValue(key, out var value) ? value : null;

    public void Dispose() => _file.Dispose();
}
