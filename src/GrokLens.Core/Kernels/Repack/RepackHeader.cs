using System.Security.Cryptography;
using System.Text;

namespace GrokLens.Kernels.Repack;

/// <summary>
/// The first <see cref="Size"/> bytes of a repack cache file: what it was made from (the source file's path, size,
/// modification time and a hash of its first 64 KB and last 1 MB, which hold the pickle's structure, the start of the
/// int8 values and all scales), its layout, and hashes of its data (all of it, and 64 sampled 4 KB windows plus the
/// scales, checked at every open). A SHA-256 of the header itself closes it. Little-endian throughout.
/// </summary>
internal sealed record RepackHeader(
    string SourcePath, long SourceLength, long SourceModifiedTicks, byte[] SourceHash,
    bool Stacked, long Experts, long Rows, long Columns, int ScaleBlocks, bool RoundToBFloat16,
    byte[] DataHash, byte[] SampledHash)
{
    public const int Size = 4096;
    public const int Version = 1;
    private static readonly byte[] Magic = "GLI8RPK\n"u8.ToArray();
    private const int HashBytes = 32;

    /// <summary>Values [E·rows, columns] int8 start at the end of the header.</summary>
    public long ValuesOffset => Size;

    public long ValuesLength => Experts * Rows * Columns;

    /// <summary>Scales [E·rows, S] float32, 64-byte aligned after the values.</summary>
    public long ScalesOffset => (ValuesOffset + ValuesLength + 63) / 64 * 64;

    public long ScalesLength => Experts * Rows * ScaleBlocks * sizeof(float);

    public long FileLength => ScalesOffset + ScalesLength;

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        var writer = new BinaryWriter(new MemoryStream(bytes), Encoding.UTF8);
        writer.Write(Magic);
        writer.Write(Version);
        var path = Encoding.UTF8.GetBytes(SourcePath);
        if (path.Length > 2048) throw new ArgumentException($"Source path too long for a repack header: {SourcePath}");
        writer.Write(path.Length);
        writer.Write(path);
        writer.Write(SourceLength);
        writer.Write(SourceModifiedTicks);
        writer.Write(SourceHash);
        writer.Write(Stacked);
        writer.Write(Experts);
        writer.Write(Rows);
        writer.Write(Columns);
        writer.Write(ScaleBlocks);
        writer.Write(RoundToBFloat16);
        writer.Write(DataHash);
        writer.Write(SampledHash);
        writer.Flush();
        int end = (int)writer.BaseStream.Position;
        SHA256.HashData(bytes.AsSpan(0, end)).CopyTo(bytes.AsSpan(end));
        return bytes;
    }

    /// <summary>The header, or a sentence saying why these bytes are not a valid one.</summary>
    public static (RepackHeader? Header, string? Problem) Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size) return (null, "shorter than a header");
        if (!bytes[..Magic.Length].SequenceEqual(Magic)) return (null, "not a GrokLens repack file");
        var copy = bytes[..Size].ToArray();
        var reader = new BinaryReader(new MemoryStream(copy), Encoding.UTF8);
        reader.ReadBytes(Magic.Length);
        int version = reader.ReadInt32();
        if (version != Version) return (null, $"version {version}, expected {Version}");
        int pathLength = reader.ReadInt32();
        if (pathLength is < 0 or > 2048) return (null, "corrupt header (path length)");
        var path = Encoding.UTF8.GetString(reader.ReadBytes(pathLength));
        long length = reader.ReadInt64(), ticks = reader.ReadInt64();
        var sourceHash = reader.ReadBytes(HashBytes);
        bool stacked = reader.ReadBoolean();
        long experts = reader.ReadInt64(), rows = reader.ReadInt64(), columns = reader.ReadInt64();
        int blocks = reader.ReadInt32();
        bool round = reader.ReadBoolean();
        var dataHash = reader.ReadBytes(HashBytes);
        var sampledHash = reader.ReadBytes(HashBytes);
        int end = (int)reader.BaseStream.Position;
        if (!SHA256.HashData(copy.AsSpan(0, end)).AsSpan().SequenceEqual(copy.AsSpan(end, HashBytes))) return (null, "header checksum mismatch");
        if (experts <= 0 || (!stacked && experts != 1) || rows <= 0 || columns <= 0 || blocks <= 0 || columns % blocks != 0)
            return (null, "corrupt header (sizes)");
        return (new RepackHeader(path, length, ticks, sourceHash, stacked, experts, rows, columns, blocks, round, dataHash, sampledHash), null);
    }
}
