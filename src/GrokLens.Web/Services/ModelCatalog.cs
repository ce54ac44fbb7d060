using GrokLens.Files;
using GrokLens.Loading;

namespace GrokLens.Web.Services;

/// <summary>
/// The models a user may pick: sub-folders of the configured models folder holding a model in any format the loader reads
/// (config.json + safetensors, a .gguf file, or xAI's raw ckpt-0 folder). Names are folder names only; anything else
/// (paths, "..", folders elsewhere on the server, links leading out of the models folder) is refused. Messages name
/// models by their names, never by server paths.
/// </summary>
public sealed class ModelCatalog(string modelsFolder, ClusterModels? cluster = null)
{
    public string ModelsFolder { get; } = Path.GetFullPath(modelsFolder);

    /// <summary>The cluster whose models are listed after the folder's ("name@cluster"), when one is configured.</summary>
    public ClusterModels? Cluster { get; } = cluster?.Address is null ? null : cluster;

    public IReadOnlyList<string> List() => [.. FolderModels(), .. Cluster?.List() ?? []];

    private IReadOnlyList<string> FolderModels() =>
        !Directory.Exists(ModelsFolder) ? []
        : Directory.EnumerateDirectories(ModelsFolder)
            .Where(folder => ContainedPath.FirstEscape(ModelsFolder, folder) is null && HoldsModel(folder))
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
        if (Cluster is not null && ClusterModels.IsClusterName(name))
            return Cluster.List().Contains(name) ? $"the cluster at {Cluster.Address}"
                : throw new ArgumentException($"No model '{name}' on the cluster. " +
                                              (Cluster.Error ?? $"Available: {string.Join(", ", List())}."));
        if (string.IsNullOrWhiteSpace(name) || name.Contains("..") || name.IndexOfAny(['/', '\\', ':']) >= 0 || Path.IsPathRooted(name))
            throw new ArgumentException($"'{name}' is not a model name: pick one of the models folder's models.");
        var folder = Path.GetFullPath(Path.Combine(ModelsFolder, name));
        // Checked before listing: List leaves such a folder out, and its message would hide why.
        if (Directory.Exists(folder) && ContainedPath.FirstEscape(ModelsFolder, folder, depth: 2) is { } escape)
            throw new ArgumentException($"Model '{name}' is refused: '{escape}' is a link to a place outside the models folder, and " +
                                        $"GrokLens reads models only from inside it (set {WorkbenchOptions.Section}:{nameof(WorkbenchOptions.ModelsFolder)} " +
                                        "to use another folder).");
        if (Path.GetDirectoryName(folder) != ModelsFolder.TrimEnd(Path.DirectorySeparatorChar) || !List().Contains(name))
            throw new ArgumentException(
                $"No model '{name}' in the models folder. Available: {(List() is { Count: > 0 } all ? string.Join(", ", all) : "none")}.");
        return folder;
    }
}
