namespace GrokLens.Files;

/// <summary>
/// Writes a file so that readers see the old content or the new, never a part: to a temporary file of a unique name
/// beside it (held exclusively while written), flushed to disk, then renamed over it. Concurrent writers of one file
/// each use their own temporary, and the last rename wins. A killed writer's temporary is swept by the next write.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        StaleTemporaries.Sweep(directory, $".{Path.GetFileName(path)}.*.tmp");
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)));
}
