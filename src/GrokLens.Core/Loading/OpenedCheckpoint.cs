using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Checkpoints.Xai;
using GrokLens.Kernels.Repack;
using GrokLens.Loading.Gguf;
using GrokLens.Loading.Naming;
using GrokLens.Loading.Xai;
using GrokLens.Model;

namespace GrokLens.Loading;

/// <summary>
/// A checkpoint in any supported format, opened: its config, a weight source for the model build and a description for
/// the model panel. Opening refuses a checkpoint holding tensors the config does not use. Disposing closes the files.
/// </summary>
internal sealed class OpenedCheckpoint(GrokConfig config, IWeightSource weights, string format, IDisposable? files,
    string? storedInt8 = null) : IDisposable
{
    /// <summary>How the checkpoint stores int8 matrices ("Q8_0", "xAI int8 + bf16 scales"), or null when it stores none.</summary>
    public string? StoredInt8 { get; } = storedInt8;

    public GrokConfig Config { get; } = config;
    public IWeightSource Weights { get; } = weights;
    public string Format { get; } = format;
    public void Dispose() => files?.Dispose();

    /// <summary>
    /// Detects the format: a <c>.gguf</c> file (or a folder whose only weights are one .gguf), xAI's raw <c>ckpt-0</c>
    /// (config.json beside it, else Grok-1's published sizes), or safetensors with config.json.
    /// </summary>
    public static OpenedCheckpoint Open(string path, string folder, string? int8CacheFolder = null)
    {
        var gguf = FindGguf(path);
        if (gguf is not null) return OpenGguf(gguf);
        if (XaiCheckpoint.IsRawCheckpoint(path)) return OpenXai(path, folder, int8CacheFolder);
        return OpenSafetensors(path, folder);
    }

    private static string? FindGguf(string path)
    {
        if (File.Exists(path)) return path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? path : null;
        if (!Directory.Exists(path) || Directory.EnumerateFiles(path, "*.safetensors").Any()) return null;
        var candidates = Directory.GetFiles(path, "*.gguf");
        return candidates.Length switch
        {
            0 => null,
            1 => candidates[0],
            _ => throw new CheckpointFormatException(path, null,
                $"the folder holds {candidates.Length} .gguf files ({string.Join(", ", candidates.Select(Path.GetFileName))}); pass one of them"),
        };
    }

    private static OpenedCheckpoint OpenGguf(string path)
    {
        var file = GgufFile.Open(path);
        try
        {
            var config = GgufGrokConfig.FromFile(file);
            UnknownTensors.Refuse(file.TensorNames, TensorNameTables.Gguf, config, file.Path);
            var weights = new GgufWeightSource(file, config.NumExperts);
            var storedInt8 = file.TensorNames.Any(n => file.Info(n).Type == GgmlType.Q8_0) ? "Q8_0, fp16 scale per 32 values" : null;
            return new OpenedCheckpoint(config, weights, weights.Format, file, storedInt8);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static OpenedCheckpoint OpenXai(string path, string folder, string? int8CacheFolder)
    {
        // config.json may sit in the given folder or beside ckpt-0; without one, the published Grok-1 sizes apply.
        var configPath = new[] { Path.Combine(folder, ModelLoader.ConfigFileName), Path.Combine(Path.GetDirectoryName(folder) ?? folder, ModelLoader.ConfigFileName) }
            .FirstOrDefault(File.Exists);
        var config = configPath is null ? GrokConfig.Grok1 : GrokConfig.FromJsonFile(configPath);
        var checkpoint = XaiCheckpoint.Open(path, config.NumLayers);
        // Open checked the file count, and every file is read by its place, so nothing can be left unused.
        return new OpenedCheckpoint(config, new XaiWeightSource(checkpoint, int8CacheFolder is null ? null : new XaiRepackCache(int8CacheFolder)), $"xAI raw release ({2 + 12 * config.NumLayers} pickles, int8 + bf16 scales)", null,
            "xAI QuantizedWeight8bit, bf16 scales");
    }

    private static OpenedCheckpoint OpenSafetensors(string path, string folder)
    {
        var config = GrokConfig.FromJsonFile(Path.Combine(folder, ModelLoader.ConfigFileName));
        bool presharded = Directory.Exists(path) && PreshardedCheckpoint.IsPresharded(folder);
        ITensorSource checkpoint = presharded ? PreshardedCheckpoint.Open(folder) : SafetensorsCheckpoint.Open(Directory.Exists(path) ? folder : path);
        try
        {
            var weights = new CheckpointWeightSource(checkpoint, config.NumExperts, TorchSharp.torch.CPU);
            UnknownTensors.Refuse(checkpoint.Names, weights.Names, config, checkpoint.Description);
            var dtypes = string.Join("+", checkpoint.Names.Select(n => checkpoint.Info(n).DType.ToString()).Distinct().Order());
            var files = checkpoint switch
            {
                PreshardedCheckpoint sharded => $"{sharded.Files.Count} files, experts pre-sharded over {sharded.RankCount} ranks",
                SafetensorsCheckpoint plain => $"{plain.Files.Count} file{(plain.Files.Count == 1 ? "" : "s")}",
                _ => checkpoint.Description,
            };
            return new OpenedCheckpoint(config, weights, $"safetensors ({files}, {dtypes}, {weights.Names.Style} names)", checkpoint);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }
}
