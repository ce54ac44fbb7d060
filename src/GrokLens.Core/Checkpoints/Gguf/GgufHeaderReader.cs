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
        if (length == 0) return "";
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

    /// <summary>
    /// An array as a typed .NET array (long[], double[], bool[] or string[]), refused before allocating when its
    /// elements would take more memory than the metadata budget has left: a few bytes of file per element can claim
    /// far more than that in memory.
    /// </summary>
    private Array Array(string key)
    {
        var elementType = (GgufValueType)UInt32();
        if (elementType == GgufValueType.Array) throw Error($"key '{key}': nested arrays are not supported");
        if (!Enum.IsDefined(elementType)) throw Error($"key '{key}': unknown array element type {(uint)elementType}");
        var count = Count($"the element count of '{key}'", ElementBytes(elementType));
        Charge(key, count * MemoryPerElement(elementType));
        switch (elementType)
        {
            case GgufValueType.String:
            {
                var values = new string[count];
                for (long i = 0; i < count; i++)
                {
                    values[i] = String($"element {i} of '{key}'");
                    Charge(key, 2L * values[i].Length);
                }
                return values;
            }
            case GgufValueType.Float32 or GgufValueType.Float64:
            {
                var values = new double[count];
                for (long i = 0; i < count; i++) values[i] = (double)Value(elementType, key);
                return values;
            }
            case GgufValueType.Bool:
            {
                var values = new bool[count];
                for (long i = 0; i < count; i++) values[i] = (bool)Value(elementType, key);
                return values;
            }
            default:
            {
                var values = new long[count];
                for (long i = 0; i < count; i++) values[i] = (long)Value(elementType, key);
                return values;
            }
        }
    }

    /// <summary>Most memory the metadata may take once read (Grok-1's vocabulary of 131,072 pieces takes about 10 MB).</summary>
    public const long MetadataMemoryBudget = 256L << 20;

    private long metadataMemory;

    /// <summary>Counts memory the metadata takes against <see cref="MetadataMemoryBudget"/>.</summary>
    public void Charge(string key, long bytes)
    {
        metadataMemory += bytes;
        if (metadataMemory > MetadataMemoryBudget)
            throw Error($"key '{key}': the metadata would take more than {MetadataMemoryBudget >> 20} MB of memory to read " +
                        "(GGUF metadata holds settings and a vocabulary; this much is not plausible)");
    }

    /// <summary>Smallest number of file bytes one element takes (a string: its 8-byte length).</summary>
    private static long ElementBytes(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        _ => 8,
    };

    /// <summary>Memory one element takes in its .NET array (a string: its reference and object header; characters are charged as read).</summary>
    private static long MemoryPerElement(GgufValueType type) => type switch
    {
        GgufValueType.Bool => 1,
        GgufValueType.String => 8 + 24,
        _ => 8,
    };

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
