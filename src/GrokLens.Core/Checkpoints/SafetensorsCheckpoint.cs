using System.Text.Json;
using TorchSharp;

namespace GrokLens.Checkpoints;

/// <summary>
/// A model checkpoint in safetensors form: a single file, a folder holding <c>model.safetensors</c>, or a folder
/// holding a Hugging Face sharded checkpoint (<c>model.safetensors.index.json</c> plus shard files). All shards
/// are opened (memory-mapped, not read) and cross-checked against the index at <see cref="Open"/>.
/// </summary>
public sealed class SafetensorsCheckpoint : ITensorSource
{
    public const string SingleFileName = "model.safetensors";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsFile> _fileByTensor;

    private SafetensorsCheckpoint(string description, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> fileByTensor,
        IReadOnlyDictionary<string, string> metadata)
    {
        Description = description;
        _files = files;
        _fileByTensor = fileByTensor;
        Metadata = metadata;
    }

    public string Description { get; }

    /// <summary>The single file's <c>__metadata__</c>, or the index's <c>metadata</c> (non-string values as JSON text).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The opened files: one, or every shard.</summary>
    public IReadOnlyList<SafetensorsFile> Files => _files;

    public IReadOnlyCollection<string> Names => _fileByTensor.Keys;

    public static SafetensorsCheckpoint Open(string path)
    {
        path = Path.GetFullPath(path);
        if (File.Exists(path))
        {
            return FromSingleFile(path);
        }
        if (!Directory.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file or folder.", path);
        }
        var single = Path.Combine(path, SingleFileName);
        if (File.Exists(single))
        {
            return FromSingleFile(single);
        }
        var index = Path.Combine(path, SafetensorsWriter.IndexFileName);
        if (File.Exists(index))
        {
            return FromIndex(path, index);
        }
        throw new CheckpointFormatException(path, null,
            $"the folder contains neither {SingleFileName} nor {SafetensorsWriter.IndexFileName}");
    }

    private static SafetensorsCheckpoint FromSingleFile(string file)
    {
        var opened = SafetensorsFile.Open(file);
        var map = opened.Names.ToDictionary(n => n, _ => opened, StringComparer.Ordinal);
        return new SafetensorsCheckpoint(file, [opened], map, opened.Metadata);
    }

    private static SafetensorsCheckpoint FromIndex(string directory, string indexPath)
    {
        var (weightMap, metadata) = ReadIndex(indexPath);

        var files = new List<SafetensorsFile>();
        try
        {
            var byShard = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var (tensor, shard) in weightMap)
            {
                if (byShard.ContainsKey(shard))
                {
                    continue;
                }
                var shardPath = Path.Combine(directory, shard);
                if (!File.Exists(shardPath))
                {
                    throw new CheckpointFormatException(indexPath, tensor, $"its shard file '{shard}' does not exist in {directory}");
                }
                var opened = SafetensorsFile.Open(shardPath);
                files.Add(opened);
                byShard.Add(shard, opened);
            }

            // A tensor stored in two shards is ambiguous even if the index picks one of them.
            var owner = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var file in files)
            {
                foreach (var name in file.Names)
                {
                    if (owner.TryGetValue(name, out var other))
                    {
                        throw new CheckpointFormatException(indexPath, name,
                            $"the tensor is stored in two shards, '{Path.GetFileName(other.Description)}' and '{Path.GetFileName(file.Description)}'");
                    }
                    owner.Add(name, file);
                }
            }

            var fileByTensor = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var (tensor, shard) in weightMap)
            {
                var file = byShard[shard];
                if (!file.Contains(tensor))
                {
                    throw new CheckpointFormatException(indexPath, tensor, $"the index maps it to shard '{shard}', which does not contain it");
                }
                fileByTensor.Add(tensor, file);
            }
            return new SafetensorsCheckpoint(directory, files, fileByTensor, metadata);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    /// <summary>Largest model.safetensors.index.json read (Grok-1's is about 100 KB).</summary>
    private const long MaxIndexBytes = 64L << 20;

    private static (List<(string Tensor, string Shard)> WeightMap, Dictionary<string, string> Metadata) ReadIndex(string indexPath)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(GrokLens.Files.BoundedFile.ReadAllBytes(indexPath, MaxIndexBytes, "safetensors index"));
        }
        catch (JsonException ex)
        {
            throw new CheckpointFormatException(indexPath, null, $"the index is not valid JSON ({ex.Message})", ex);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("weight_map", out var weightMapElement)
                || weightMapElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(indexPath, null, "the index must be a JSON object with a \"weight_map\" object");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var metadataElement) && metadataElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in metadataElement.EnumerateObject())
                {
                    metadata[entry.Name] = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : entry.Value.GetRawText();
                }
            }

            var weightMap = new List<(string, string)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in weightMapElement.EnumerateObject())
            {
                if (!seen.Add(entry.Name))
                {
                    throw new CheckpointFormatException(indexPath, entry.Name, "the weight_map lists the tensor twice (in two shards)");
                }
                if (entry.Value.ValueKind != JsonValueKind.String)
                {
                    throw new CheckpointFormatException(indexPath, entry.Name, "its weight_map value must be a shard file name string");
                }
                var shard = entry.Value.GetString()!;
                if (!IsPlainFileName(shard))
                {
                    throw new CheckpointFormatException(indexPath, entry.Name,
                        $"its shard '{shard}' is not a plain file name in the checkpoint folder (paths such as '../x' or '/x' are refused)");
                }
                weightMap.Add((entry.Name, shard));
            }
            return (weightMap, metadata);
        }
    }

    /// <summary>Only names of files directly inside the folder: the index must not point anywhere else on disk.</summary>
    private static bool IsPlainFileName(string name) =>
        name.Length > 0
        && name != "." && name != ".."
        && name.IndexOfAny(['/', '\\', ':', '\0']) < 0
        && !Path.IsPathRooted(name)
        && Path.GetFileName(name) == name;

    public bool Contains(string name) => _fileByTensor.ContainsKey(name);

    public SafetensorsTensorInfo Info(string name) => FileOf(name).Info(name);

    public torch.Tensor Load(string name, torch.Device? device = null) => FileOf(name).Load(name, device);

    public torch.Tensor LoadFloat32(string name, torch.Device? device = null) => FileOf(name).LoadFloat32(name, device);

    private SafetensorsFile FileOf(string name) =>
        _fileByTensor.TryGetValue(name, out var file)
            ? file
            : throw new CheckpointFormatException(Description, name, "no such tensor in this checkpoint");

    public void Dispose() => _files.ForEach(f => f.Dispose());
}
