using GrokLens.Loading;

namespace GrokLens.Web.Services;

/// <summary>
/// The models a user may pick: sub-folders of the configured models folder holding a model in any format the loader reads
/// (config.json + safetensors, a .gguf file, or xAI's raw ckpt-0 folder). Names are folder names only; anything else
/// (paths, "..", folders elsewhere on the server) is refused.
/// </summary>
public sealed class ModelCatalog(string modelsFolder)
{
    public string ModelsFolder { get; } = Path.GetFullPath(modelsFolder);

    public IReadOnlyList<string> List() =>
        !Directory.Exists(ModelsFolder) ? []
        : Directory.EnumerateDirectories(ModelsFolder)
            .Where(HoldsModel)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList();

    private static bool HoldsModel(string folder) =>
        File.Exists(Path.Combine(folder, ModelLoader.ConfigFileName))
        || Directory.EnumerateFiles(folder, "*.gguf").Any()
        || Directory.Exists(Path.Combine(folder, "ckpt-0"));

    /// <summary>The full folder of a listed model, or an <see cref="ArgumentException"/> naming the problem.</summary>
    public string Resolve(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains("..") || name.IndexOfAny(['/', '\\', ':']) >= 0 || Path.IsPathRooted(name))
            throw new ArgumentException($"'{name}' is not a model name: pick one of the folders in {ModelsFolder}.");
        var folder = Path.GetFullPath(Path.Combine(ModelsFolder, name));
        if (Path.GetDirectoryName(folder) != ModelsFolder.TrimEnd(Path.DirectorySeparatorChar) || !List().Contains(name))
            throw new ArgumentException(
                $"No model '{name}' in {ModelsFolder}. Available: {(List() is { Count: > 0 } all ? string.Join(", ", all) : "none")}.");
        return folder;
    }
}
