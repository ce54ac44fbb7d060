using System.Text.RegularExpressions;
using GrokLens.Files;
using GrokLens.Web.Compare;

namespace GrokLens.Web.Services;

/// <summary>
/// The server's folder of saved experiments. Only plain names (letters, digits, space, '-', '_', '.'; no leading dot)
/// are accepted, and a name that is a link leading out of the folder is refused, so nothing outside the configured
/// folder can be read or written. Saves are atomic (each through its own temporary file), so concurrent saves of one
/// name never fail: the last one wins.
/// </summary>
public sealed partial class ExperimentStore(string folder)
{
    public string Folder { get; } = Path.GetFullPath(folder);

    public IReadOnlyList<string> List() =>
        Directory.Exists(Folder)
            ? Directory.EnumerateFiles(Folder, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>()
                .Where(n => SafeName().IsMatch(n) && ContainedPath.FirstEscape(Folder, Path.Combine(Folder, n + ".json")) is null)
                .Order(StringComparer.OrdinalIgnoreCase).ToList()
            : [];

    public void Save(string name, Experiment experiment)
    {
        var path = PathOf(name);
        Directory.CreateDirectory(Folder);
        AtomicFile.WriteAllText(path, experiment.ToJson());
    }

    public Experiment Load(string name)
    {
        var path = PathOf(name);
        if (!File.Exists(path)) throw new FileNotFoundException($"There is no saved experiment named '{name}'.");
        return Experiment.FromJson(BoundedFile.ReadAllText(path, MaxFileBytes, "saved experiment"));
    }

    /// <summary>The file of a name, refusing anything but a plain name inside the folder.</summary>
    public string PathOf(string name)
    {
        name = name?.Trim() ?? "";
        if (!SafeName().IsMatch(name) || name.Contains(".."))
            throw new ArgumentException($"'{name}' is not a valid experiment name: use letters, digits, spaces, '-', '_' or '.' (at most 64, no leading dot).");
        var path = Path.GetFullPath(Path.Combine(Folder, name + ".json"));
        if (!path.StartsWith(Folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"'{name}' is not a valid experiment name.");
        if (Directory.Exists(Folder) && ContainedPath.FirstEscape(Folder, path) is not null)
            throw new ArgumentException($"The experiment '{name}' is refused: its file is a link to a place outside the experiments folder.");
        return path;
    }

    /// <summary>Largest experiment file read (steering vectors make experiments large, not this large).</summary>
    public const long MaxFileBytes = 16L << 20;

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9 _.\-]{0,63}$")]
    private static partial Regex SafeName();
}
