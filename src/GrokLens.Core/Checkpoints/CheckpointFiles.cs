using GrokLens.Checkpoints.Xai;

namespace GrokLens.Checkpoints;

/// <summary>
/// The weight files a checkpoint path stands for, detected the way the loader detects the format: a <c>.gguf</c> file
/// (or a folder whose only weights are one .gguf), xAI's raw <c>ckpt-0</c> pickles, SGLang's pre-sharded safetensors
/// (every <c>*-TP-*.safetensors</c> file), or safetensors (one file, or the shards an index names). A folder holding both
/// safetensors and a .gguf means its safetensors, as for the loader.
/// </summary>
public static class CheckpointFiles
{
    /// <summary>Full paths of the weight files, in a stable order; a <see cref="CheckpointFormatException"/> when none are found.</summary>
    public static IReadOnlyList<string> Find(string path)
    {
        path = Path.GetFullPath(path);
        if (File.Exists(path) && path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) return [path];
        if (Directory.Exists(path) && !Directory.EnumerateFiles(path, "*.safetensors").Any())
        {
            var gguf = Directory.GetFiles(path, "*.gguf");
            if (gguf.Length == 1) return gguf;
            if (gguf.Length > 1)
                throw new CheckpointFormatException(path, null,
                    $"the folder holds {gguf.Length} .gguf files ({string.Join(", ", gguf.Select(Path.GetFileName))}); pass one of them");
        }
        if (XaiCheckpoint.IsRawCheckpoint(path)) return XaiCheckpoint.TensorFiles(path);
        if (Directory.Exists(path) && PreshardedCheckpoint.IsPresharded(path))
        {
            using var sharded = PreshardedCheckpoint.Open(path);
            return sharded.Files.Select(f => f.Description).Order(StringComparer.Ordinal).ToList();
        }
        using var checkpoint = SafetensorsCheckpoint.Open(path);
        return checkpoint.Files.Select(f => f.Description).Order(StringComparer.Ordinal).ToList();
    }
}
