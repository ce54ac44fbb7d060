namespace GrokLens.Files;

/// <summary>
/// Keeps a server's folders (models, dumps, experiments) closed: an entry that is, or goes through, a symbolic link
/// whose target lies outside the folder is refused, so a link such as <c>experiments/x.json → /etc/passwd</c> cannot
/// make the server read (or write) elsewhere. Links that stay inside the folder are fine.
/// </summary>
public static class ContainedPath
{
    private const int MaxLinks = 40; // as Linux's path resolution

    /// <summary>
    /// Null when <paramref name="path"/> (and, for a folder, everything below it down to <paramref name="depth"/> levels)
    /// resolves inside <paramref name="root"/>; otherwise the name, relative to the root, of the first entry that leads out.
    /// </summary>
    public static string? FirstEscape(string root, string path, int depth = 0)
    {
        var realRoot = RealPath(root);
        string? Check(string entry) => IsInside(RealPath(entry), realRoot) ? null : Path.GetRelativePath(root, entry);
        if (Check(path) is { } escape) return escape;
        if (depth <= 0 || !Directory.Exists(path)) return null;
        foreach (var entry in Directory.EnumerateFileSystemEntries(path))
        {
            // A linked sub-folder was checked by its own entry; its content lies where the link leads (inside).
            var found = new FileInfo(entry).LinkTarget is null && Directory.Exists(entry) ? FirstEscape(root, entry, depth - 1) : Check(entry);
            if (found is not null) return found;
        }
        return null;
    }

    /// <summary>The path with every symbolic link in it resolved (the target of a dangling link is taken as it is).</summary>
    public static string RealPath(string path)
    {
        path = Path.GetFullPath(path);
        var current = Path.GetPathRoot(path)!;
        var parts = new Queue<string>(Components(path));
        int links = 0;
        while (parts.TryDequeue(out var part))
        {
            var next = Path.Combine(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks) throw new IOException($"{path}: too many levels of symbolic links.");
            var resolved = Path.GetFullPath(target, current); // a relative target is relative to the link's folder
            parts = new Queue<string>(Components(resolved).Concat(parts));
            current = Path.GetPathRoot(resolved)!;
        }
        return current;
    }

    private static bool IsInside(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static string[] Components(string fullPath) =>
        fullPath[Path.GetPathRoot(fullPath)!.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
}
