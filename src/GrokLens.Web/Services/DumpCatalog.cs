using GrokLens.Dumps;

namespace GrokLens.Web.Services;

/// <summary>
/// The dumps a user may open from the server: dump folders (holding a manifest.json) and .zip files directly inside the
/// configured dumps folder. Names are plain entry names; paths, ".." and anything outside the folder are refused.
/// </summary>
public sealed class DumpCatalog(string dumpsFolder)
{
    public string DumpsFolder { get; } = Path.GetFullPath(dumpsFolder);

    public IReadOnlyList<string> List() =>
        !Directory.Exists(DumpsFolder) ? []
        : Directory.EnumerateDirectories(DumpsFolder).Where(d => File.Exists(Path.Combine(d, DumpFormat.ManifestFileName)))
            .Concat(Directory.EnumerateFiles(DumpsFolder, "*.zip"))
            .Select(Path.GetFileName).OfType<string>()
            .Where(name => !name.StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The full path of a listed dump, or an <see cref="ArgumentException"/> naming the problem.</summary>
    public string Resolve(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains("..") || name.IndexOfAny(['/', '\\', ':']) >= 0 || Path.IsPathRooted(name))
            throw new ArgumentException($"'{name}' is not a dump name: pick one of the dumps in {DumpsFolder}.");
        if (!List().Contains(name))
            throw new ArgumentException(
                $"No dump '{name}' in {DumpsFolder}. Available: {(List() is { Count: > 0 } all ? string.Join(", ", all) : "none")}.");
        return Path.Combine(DumpsFolder, name);
    }
}
