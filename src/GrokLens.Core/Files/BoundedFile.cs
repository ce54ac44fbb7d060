using System.Text;

namespace GrokLens.Files;

/// <summary>
/// Reads small files (configs, tokenizer models, manifests, experiments) whole, but never more than a limit: a file
/// that is larger, or that never ends (a link to <c>/dev/zero</c>, whose reported length is 0), is refused with a
/// <see cref="FileTooLargeException"/> after at most limit + 1 bytes were read.
/// </summary>
public static class BoundedFile
{
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        // The reported length is only a hint: devices and pipes report 0 and may never end.
        var reported = stream.CanSeek ? stream.Length : 0;
        if (reported > maxBytes) throw new FileTooLargeException(path, what, maxBytes, reported);
        if (reported > 0)
        {
            // A regular file: read exactly its bytes, then make sure nothing follows.
            var whole = new byte[reported];
            int got = stream.ReadAtLeast(whole, whole.Length, throwOnEndOfStream: false);
            if (got == whole.Length && stream.ReadByte() < 0) return whole;
            stream.Position = 0; // it changed while being read: read it again below, bounded all the same
        }
        // Chunks, not a growing buffer: a file that never ends costs the limit once, not twice over in doublings.
        var chunks = new List<byte[]>();
        long total = 0;
        while (true)
        {
            var chunk = new byte[(int)Math.Min(1 << 20, maxBytes + 1 - total)];
            int read = stream.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false);
            if (read == 0) break;
            total += read;
            if (total > maxBytes) throw new FileTooLargeException(path, what, maxBytes, reported: null);
            chunks.Add(read == chunk.Length ? chunk : chunk[..read]);
            if (read < chunk.Length) break;
        }
        var bytes = new byte[total];
        long at = 0;
        foreach (var chunk in chunks)
        {
            chunk.CopyTo(bytes, at);
            at += chunk.Length;
        }
        return bytes;
    }

    /// <summary>The file as UTF-8 text (a byte-order mark is skipped).</summary>
    public static string ReadAllText(string path, long maxBytes, string what)
    {
        var bytes = ReadAllBytes(path, maxBytes, what);
        var start = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        return Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
    }
}

/// <summary>A file over the size its kind may have; the message names the file, the limit and, for a link, its target.</summary>
public sealed class FileTooLargeException(string path, string what, long maxBytes, long? reported)
    : IOException(Describe(path, what, maxBytes, reported))
{
    public string FilePath { get; } = path;

    private static string Describe(string path, string what, long maxBytes, long? reported)
    {
        var target = LinkTarget(path);
        var size = reported is { } bytes ? $"is {bytes:N0} bytes" : $"holds more than {maxBytes:N0} bytes";
        return $"{path}{(target is null ? "" : $" (a link to {target})")} {size}; a {what} is at most {maxBytes:N0} bytes. Is it the right file?";
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
