using System.Buffers.Binary;
using System.Text;

namespace GrokLens.Checkpoints.Gguf;

/// <summary>
/// Reads the GGUF header fields in order, checking every length against the bytes left in the file before using it,
/// so a corrupt or hostile count can neither read out of bounds nor allocate gigabytes.
/// </summary>
internal sealed class GgufHeaderReader(MappedFile file)
{
    /// <summary>Longest metadata string or tensor name accepted (tokenizer merges are short; this is generous).</summary>
    private const long MaxStringBytes = 1 << 24;

    public long Position { get; private set; }

    public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>A count or length that must fit in what is left of the file, <paramref name="minimumBytesEach"/> bytes per item.</summary>
    public long Count(string what, long minimumBytesEach)
    {
        var value = UInt64();
        var left = file.Length - Position;
        if (value > (ulong)Math.Max(0, left / Math.Max(1, minimumBytesEach)))
            throw Error($"{what} is {value}, but only {left} bytes are left in the file");
        return (long)value;
    }

    public string String(string what)
    {
        var length = Count($"the length of {what}", 1);
        if (length > MaxStringBytes) throw Error($"the length of {what} is {length} bytes, over the {MaxStringBytes}-byte limit");
        var bytes = Take((int)length);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error($"{what} is not valid UTF-8");
        }
    }

    public object Value(GgufValueType type, string key) => type switch
    {
        GgufValueType.UInt8 => (long)Take(1)[0],
        GgufValueType.Int8 => (long)(sbyte)Take(1)[0],
        GgufValueType.UInt16 => (long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2)),
        GgufValueType.Int16 => (long)BinaryPrimitives.ReadInt16LittleEndian(Take(2)),
        GgufValueType.UInt32 => (long)UInt32(),
        GgufValueType.Int32 => (long)BinaryPrimitives.ReadInt32LittleEndian(Take(4)),
        GgufValueType.UInt64 => UInt64() is var u && u <= long.MaxValue ? (long)u : throw Error($"key '{key}': {u} is too large"),
        GgufValueType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(Take(8)),
        GgufValueType.Float32 => (double)BinaryPrimitives.ReadSingleLittleEndian(Take(4)),
        GgufValueType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(Take(8)),
        GgufValueType.Bool => Take(1)[0] switch
        {
            0 => false,
            1 => true,
            var b => throw Error($"key '{key}': boolean byte {b} is neither 0 nor 1"),
        },
        GgufValueType.String => String($"the string value of '{key}'"),
        GgufValueType.Array => Array(key),
        _ => throw Error($"key '{key}': unknown value type {(uint)type}"),
    };

    private object[] Array(string key)
    {
        var elementType = (GgufValueType)UInt32();
        if (elementType == GgufValueType.Array) throw Error($"key '{key}': nested arrays are not supported");
        if (!Enum.IsDefined(elementType)) throw Error($"key '{key}': unknown array element type {(uint)elementType}");
        var count = Count($"the element count of '{key}'", 1);
        var values = new object[count];
        for (long i = 0; i < count; i++) values[i] = Value(elementType, key);
        return values;
    }

    public void Skip(long bytes)
    {
        if (bytes < 0 || bytes > file.Length - Position) throw Error($"the header runs past the end of the file");
        Position += bytes;
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > file.Length - Position)
            throw Error($"the header ends abruptly at byte {Position} (needs {count} more bytes; the file is truncated or not GGUF)");
        var span = file.Span(Position, count);
        Position += count;
        return span;
    }

    public CheckpointFormatException Error(string problem, string? tensor = null) => new(file.Path, tensor, problem);
}
