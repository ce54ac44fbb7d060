using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using GrokLens.Checkpoints.Gguf;
using Microsoft.Win32.SafeHandles;

namespace GrokLens.Dumps;

/// <summary>
/// Identifies a model's weights cheaply at any size (docs/dump-format.md, "Weights fingerprint"). Each weight file's
/// fingerprint is a SHA-256 over its size, its whole header (the tensor names, dtypes, shapes and offsets; for GGUF
/// also the metadata) and <see cref="Blocks"/> blocks of <see cref="BlockBytes"/> spread evenly over its tensor data
/// (all of the data when it is small): about 1 MB read per file, whether the file holds 18 MB or 300 GB. The model's
/// fingerprint is a SHA-256 over the lines "fingerprint␣␣name\n" of its files sorted by name. Fingerprints are cached
/// per path, size and modification time, so a process computes each once.
/// </summary>
public static class WeightsFingerprint
{
    public const int BlockBytes = 64 << 10;
    public const int Blocks = 16;

    /// <summary>The header of a file of no known format (xAI's pickles: their opcodes come before the array bytes).</summary>
    public const int GenericHeaderBytes = 64 << 10;

    private static readonly byte[] Domain = "groklens-weights-fingerprint-1\n"u8.ToArray();
    private static readonly ConcurrentDictionary<(string Path, long Length, DateTime Modified), string> Cache = new();
    private static readonly ConcurrentDictionary<(string Path, long Length, DateTime Modified), string> FullHashCache = new();

    /// <summary>The model's fingerprint and each file's (named by file name), from the weight files the loader read.</summary>
    public static (string Fingerprint, IReadOnlyList<DumpWeightFile> Files) Compute(IReadOnlyList<string> weightFiles)
    {
        var files = weightFiles
            .Select(path => new DumpWeightFile { Name = Path.GetFileName(path), Bytes = new FileInfo(path).Length, Fingerprint = FileFingerprint(path) })
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        return (Combine(files.Select(f => (f.Fingerprint!, f.Name))), files);
    }

    /// <summary>SHA-256 of "hash␣␣name\n" lines (UTF-8), sorted by name.</summary>
    public static string Combine(IEnumerable<(string Hash, string Name)> files)
    {
        var lines = string.Concat(files.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => $"{f.Hash}  {f.Name}\n"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lines)));
    }

    public static string FileFingerprint(string path)
    {
        var info = new FileInfo(path);
        return Cache.GetOrAdd((info.FullName, info.Length, info.LastWriteTimeUtc), key => Sampled(key.Path));
    }

    /// <summary>
    /// The identity format version 1 dumps recorded: the SHA-256 of each whole file, combined as <see cref="Combine"/>
    /// does. Reads every byte; only needed to match a loaded model against an old dump.
    /// </summary>
    public static string LegacySha256(IReadOnlyList<string> weightFiles) => Combine(weightFiles.Select(path =>
    {
        var info = new FileInfo(path);
        var hash = FullHashCache.GetOrAdd((info.FullName, info.Length, info.LastWriteTimeUtc), key =>
        {
            using var stream = new FileStream(key.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        });
        return (hash, Path.GetFileName(path));
    }));

    private static string Sampled(string path)
    {
        using var handle = File.OpenHandle(path);
        long size = RandomAccess.GetLength(handle);
        long header = Math.Min(HeaderLength(path, handle, size), size);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Domain);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, size);
        hash.AppendData(length);
        Append(hash, handle, 0, header);
        long data = size - header;
        if (data <= (long)Blocks * BlockBytes)
            Append(hash, handle, header, data);
        else
            for (int i = 0; i < Blocks; i++)
                Append(hash, handle, header + (data - BlockBytes) * i / (Blocks - 1), BlockBytes);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Bytes before the tensor data: safetensors' length field and JSON header, GGUF's header, or a fixed prefix.</summary>
    private static long HeaderLength(string path, SafeFileHandle handle, long size)
    {
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && size >= 8)
        {
            Span<byte> field = stackalloc byte[8];
            RandomAccess.Read(handle, field, 0);
            var json = BinaryPrimitives.ReadUInt64LittleEndian(field);
            if (json <= (ulong)(size - 8)) return 8 + (long)json;
        }
        if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            using var gguf = GgufFile.Open(path);
            return gguf.DataStart;
        }
        return GenericHeaderBytes;
    }

    private static void Append(IncrementalHash hash, SafeFileHandle handle, long offset, long count)
    {
        var buffer = new byte[(int)Math.Min(count, 1 << 20)];
        while (count > 0)
        {
            int read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(count, buffer.Length)), offset);
            if (read == 0) throw new IOException("the file ended while it was being read (it changed meanwhile)");
            hash.AppendData(buffer, 0, read);
            offset += read;
            count -= read;
        }
    }
}
