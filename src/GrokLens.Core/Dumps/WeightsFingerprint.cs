using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using GrokLens.Checkpoints;

namespace GrokLens.Dumps;

/// <summary>
/// Identifies a model's weights: the SHA-256 of each safetensors file it was loaded from, and one SHA-256 over the
/// sha256sum-style lines "hex␣␣name\n" of those files sorted by name (so a sharded checkpoint has one hash too).
/// File hashes are cached per path, size and modification time: hashing a large checkpoint happens once per process.
/// </summary>
public static class WeightsFingerprint
{
    private static readonly ConcurrentDictionary<(string Path, long Length, DateTime Modified), string> Cache = new();

    /// <summary>The weight files of a model folder or file; empty for generated weights (a source that is not on disk).</summary>
    public static (string? Sha256, IReadOnlyList<DumpFile> Files) Compute(string source)
    {
        if (!Directory.Exists(source) && !File.Exists(source)) return (null, []);
        List<string> paths;
        using (var checkpoint = SafetensorsCheckpoint.Open(source))
            paths = checkpoint.Files.Select(f => f.Description).ToList();
        var files = paths
            .Select(path => new DumpFile { Name = Path.GetFileName(path), Bytes = new FileInfo(path).Length, Sha256 = FileSha256(path) })
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        return (Combine(files), files);
    }

    /// <summary>SHA-256 of "sha256␣␣name\n" lines (UTF-8), the files sorted by name.</summary>
    public static string Combine(IEnumerable<DumpFile> files)
    {
        var lines = string.Concat(files.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => $"{f.Sha256}  {f.Name}\n"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lines)));
    }

    public static string FileSha256(string path)
    {
        var info = new FileInfo(path);
        return Cache.GetOrAdd((info.FullName, info.Length, info.LastWriteTimeUtc), key =>
        {
            using var stream = new FileStream(key.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        });
    }
}
