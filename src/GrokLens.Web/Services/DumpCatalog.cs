using GrokLens.Dumps;
using GrokLens.Files;

namespace GrokLens.Web.Services;

/// <summary>
/// The dumps a user may open from the server: dump folders (holding a manifest.json) and .zip files directly inside the
/// configured dumps folder. Names are plain entry names; paths, "..", anything outside the folder and links leading out
/// of it are refused. Messages name dumps by their names, never by server paths.
/// </summary>
public sealed class DumpCatalog(string dumpsFolder)
{
    public string DumpsFolder { get; } = Path.GetFullPath(dumpsFolder);

    public IReadOnlyList<string> List() =>
        !Directory.Exists(DumpsFolder) ? []
        : Directory.EnumerateDirectories(DumpsFolder).Where(d => File.Exists(Path.Combine(d, DumpFormat.ManifestFileName)))
            .Concat(Directory.EnumerateFiles(DumpsFolder, "*.zip"))
            .Where(entry => ContainedPath.FirstEscape(DumpsFolder, entry) is null)
            .Select(Path.GetFileName).OfType<string>()
            .Where(name => !name.StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The full path of a listed dump, or an <see cref="ArgumentException"/> naming the problem.</summary>
    public string Resolve(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains("..") || name.IndexOfAny(['/', '\\', ':']) >= 0 || Path.IsPathRooted(name))
            throw new ArgumentException($"'{name}' is not a dump name: pick one of the dumps folder's dumps.");
        var path = Path.Combine(DumpsFolder, name);
        if (Path.Exists(path) && ContainedPath.FirstEscape(DumpsFolder, path, depth: 1) is { } escape)
            throw new ArgumentException($"Dump '{name}' is refused: '{escape}' is a link to a place outside the dumps folder, and " +
                                        "GrokLens opens dumps only from inside it.");
        if (!List().Contains(name))
            throw new ArgumentException(
                $"No dump '{name}' in the dumps folder. Available: {(List() is { Count: > 0 } all ? string.Join(", ", all) : "none")}.");
        return path;
    }
}
