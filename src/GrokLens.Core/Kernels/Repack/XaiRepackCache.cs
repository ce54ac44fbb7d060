using System.Security.Cryptography;
using System.Text;
using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Xai;

namespace GrokLens.Kernels.Repack;

/// <summary>
/// The on-disk cache of xAI's raw int8 weights repacked once for the kernels. A raw file stores JAX [.., in, out] int8
/// with bfloat16 scales [.., S, out]; its repack is int8 [.., out, in] row-major with float32 scales [.., out, S]
/// (<see cref="Int8Format.RowScaled"/>, W = bf16(q·s)), one cache file per source file, mapped on later loads.
/// A cache file is used only if its header (magic, version, own checksum), its size, the source's path, size,
/// modification time and head/tail hash, the layout and a sampled hash of its data all check out; otherwise it is
/// rebuilt, never trusted. Files are written under a temporary name and renamed when complete.
/// </summary>
public sealed class XaiRepackCache(string folder)
{
    public const string Extension = ".groklens-int8";
    private const int SourceHeadBytes = 64 * 1024;
    private const int SourceTailBytes = 1024 * 1024;
    private const int Samples = 64;
    private const int SampleBytes = 4096;

    public string Folder { get; } = Path.GetFullPath(folder);

    /// <summary>
    /// <c>ckpt-0/.groklens-int8</c> beside the checkpoint if it can be written there, else a folder per checkpoint under
    /// the user's cache directory ($XDG_CACHE_HOME or ~/.cache: <c>groklens/int8/&lt;hash of the checkpoint path&gt;</c>).
    /// </summary>
    public static string DefaultFolder(string checkpointFolder)
    {
        var beside = Path.Combine(Path.GetFullPath(checkpointFolder), ".groklens-int8");
        if (CanWrite(beside)) return beside;
        var cacheHome = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(checkpointFolder))))[..16].ToLowerInvariant();
        return Path.Combine(cacheHome, "groklens", "int8", key);
    }

    public string CachePathOf(string sourcePath) => Path.Combine(Folder, Path.GetFileName(sourcePath) + Extension);

    /// <summary>The repacked weight of a raw QuantizedWeight8bit file, from the cache if valid, else built (or rebuilt) first.</summary>
    public RepackedMatrix Open(string sourcePath)
    {
        sourcePath = Path.GetFullPath(sourcePath);
        var cachePath = CachePathOf(sourcePath);
        string status = "built";
        if (File.Exists(cachePath))
        {
            var reused = TryOpen(cachePath, sourcePath, "reused", out var refused);
            if (reused is not null) return reused;
            status = $"rebuilt: {refused}";
        }
        Build(sourcePath, cachePath);
        return TryOpen(cachePath, sourcePath, status, out var failed)
               ?? throw new InvalidDataException($"{cachePath}: the repack just written does not validate ({failed}).");
    }

    /// <summary>Recomputes the hash of all the data of a cache file against its header (slower: reads every byte).</summary>
    public static bool VerifyFully(string cachePath)
    {
        using var file = MappedFile.Open(cachePath);
        var (header, _) = RepackHeader.Parse(file.Length >= RepackHeader.Size ? file.Span(0, RepackHeader.Size) : []);
        return header is not null && file.Length == header.FileLength && DataHash(file, header).AsSpan().SequenceEqual(header.DataHash);
    }

    private static RepackedMatrix? TryOpen(string cachePath, string sourcePath, string status, out string? problem)
    {
        var file = MappedFile.Open(cachePath);
        try
        {
            problem = Check(file, sourcePath, out var header);
            if (problem is null) return new RepackedMatrix(file, header!, status);
            file.Dispose();
            return null;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static string? Check(MappedFile file, string sourcePath, out RepackHeader? header)
    {
        header = null;
        if (file.Length < RepackHeader.Size) return "shorter than its header";
        var (parsed, problem) = RepackHeader.Parse(file.Span(0, RepackHeader.Size));
        if (parsed is null) return problem;
        if (file.Length != parsed.FileLength) return $"{file.Length} bytes, its header says {parsed.FileLength}";
        var source = new FileInfo(sourcePath);
        if (parsed.SourcePath != sourcePath) return $"made from {parsed.SourcePath}";
        if (parsed.SourceLength != source.Length || parsed.SourceModifiedTicks != source.LastWriteTimeUtc.Ticks)
            return "the source file changed (size or modification time)";
        if (!SourceHash(sourcePath).AsSpan().SequenceEqual(parsed.SourceHash)) return "the source file's contents changed";
        if (!SampledHash(file, parsed).AsSpan().SequenceEqual(parsed.SampledHash)) return "its data does not match its checksum (corrupt)";
        header = parsed;
        return null;
    }

    private void Build(string sourcePath, string cachePath)
    {
        Directory.CreateDirectory(Folder);
        var source = new FileInfo(sourcePath);
        var sourceHash = SourceHash(sourcePath);
        var temporary = $"{cachePath}.{Environment.ProcessId}.{Guid.NewGuid():N}.partial";
        try
        {
            RepackHeader header;
            using (var mapped = MappedFile.Open(sourcePath))
            {
                var tensor = XaiTensorFile.Read(mapped);
                if (tensor.Scales is null) throw new CheckpointFormatException(sourcePath, null, "not a QuantizedWeight8bit (int8 + scales): nothing to repack");
                var layout = XaiRepacker.Layout(mapped, tensor);
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20))
                {
                    var placeholder = layout with { SourcePath = sourcePath, SourceLength = source.Length, SourceModifiedTicks = source.LastWriteTimeUtc.Ticks, SourceHash = sourceHash };
                    stream.Write(new byte[RepackHeader.Size]);
                    var dataHash = XaiRepacker.Write(mapped, tensor, placeholder, stream);
                    stream.Flush(flushToDisk: true);
                    header = placeholder with { DataHash = dataHash };
                }
                using (var written = MappedFile.Open(temporary))
                    header = header with { SampledHash = SampledHash(written, header) };
                using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.Write, FileShare.None))
                {
                    stream.Write(header.ToBytes());
                    stream.Flush(flushToDisk: true);
                }
            }
            File.Move(temporary, cachePath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private static bool CanWrite(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, $".probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>SHA-256 of the source's first 64 KB and last 1 MB: the pickle's opcodes, the first values and (at the end) every scale.</summary>
    internal static byte[] SourceHash(string sourcePath)
    {
        using var file = MappedFile.Open(sourcePath);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int head = (int)Math.Min(SourceHeadBytes, file.Length);
        hash.AppendData(file.Span(0, head));
        long tailStart = Math.Max(head, file.Length - SourceTailBytes);
        hash.AppendData(file.Span(tailStart, (int)(file.Length - tailStart)));
        return hash.GetHashAndReset();
    }

    /// <summary>SHA-256 of 64 evenly spaced 4 KB windows of the values and of all scales.</summary>
    internal static byte[] SampledHash(MappedFile file, RepackHeader header)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long values = header.ValuesLength;
        int window = (int)Math.Min(SampleBytes, values);
        for (int k = 0; k < Samples; k++)
            hash.AppendData(file.Span(header.ValuesOffset + (values - window) * k / (Samples - 1), window));
        for (long at = 0; at < header.ScalesLength; at += 1 << 30)
            hash.AppendData(file.Span(header.ScalesOffset + at, (int)Math.Min(1 << 30, header.ScalesLength - at)));
        return hash.GetHashAndReset();
    }

    internal static byte[] DataHash(MappedFile file, RepackHeader header)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long at = RepackHeader.Size; at < file.Length; at += 1 << 30)
            hash.AppendData(file.Span(at, (int)Math.Min(1 << 30, file.Length - at)));
        return hash.GetHashAndReset();
    }
}
