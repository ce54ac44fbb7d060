using GrokLens.Checkpoints.Gguf;
using GrokLens.Checkpoints.Xai;
using GrokLens.Loading;
using GrokLens.Loading.Gguf;
using GrokLens.Model;

namespace GrokLens.Web.Models;

/// <summary>
/// The memory a model's weights will take once loaded resident in float32 (the workbench's way of loading), from its
/// config alone, so the registry can make room before reading any weight.
/// </summary>
public static class ModelMemoryEstimate
{
    public static long Of(string folder) => Of(ConfigOf(folder));

    public static long Of(GrokConfig config) =>
        ModelLoader.LayerBytes(config, int8: false) * config.NumLayers + ModelLoader.GlobalBytes(config);

    /// <summary>The config as the loader finds it: a lone .gguf's metadata, else config.json, else (xAI's raw release) Grok-1's.</summary>
    private static GrokConfig ConfigOf(string folder)
    {
        var gguf = Directory.EnumerateFiles(folder, "*.gguf").ToList();
        var config = Path.Combine(folder, ModelLoader.ConfigFileName);
        if (gguf.Count == 1 && !Directory.EnumerateFiles(folder, "*.safetensors").Any())
        {
            using var file = GgufFile.Open(gguf[0]);
            return GgufGrokConfig.FromFile(file);
        }
        if (File.Exists(config)) return GrokConfig.FromJsonFile(config);
        if (XaiCheckpoint.IsRawCheckpoint(folder)) return GrokConfig.Grok1;
        throw new FileNotFoundException($"Model folder '{Path.GetFileName(folder)}' holds no {ModelLoader.ConfigFileName}, .gguf or ckpt-0 to read the model's size from.");
    }
}
