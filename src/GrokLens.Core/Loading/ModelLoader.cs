using GrokLens.Checkpoints;
using GrokLens.Engine;
using GrokLens.Model;
using GrokLens.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading;

/// <summary>
/// Loads a model folder: <c>config.json</c> (Hugging Face Grok keys), safetensors weights (<c>model.safetensors</c> or
/// a sharded <c>model.safetensors.index.json</c>; F32, BF16 or F16, upcast to float32), and a tokenizer:
/// <c>tokenizer.model</c> beside the weights, else Grok-1's own for a 131,072-entry vocabulary, else none (token ids only).
/// </summary>
public static class ModelLoader
{
    public const string ConfigFileName = "config.json";
    public const string TokenizerFileName = "tokenizer.model";
    private const int Grok1VocabSize = 131072;

    public static LoadedModel Load(string path, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        var folder = Directory.Exists(path) ? Path.GetFullPath(path)
            : File.Exists(path) ? Path.GetDirectoryName(Path.GetFullPath(path))!
            : throw new DirectoryNotFoundException($"Model not found: '{path}' is neither a folder nor a file.");
        var config = GrokConfig.FromJsonFile(Path.Combine(folder, ConfigFileName));
        var device = ParseDevice(options.Device);
        var tokenizer = options.Tokenizer ?? FindTokenizer(folder, config);

        using var checkpoint = SafetensorsCheckpoint.Open(Directory.Exists(path) ? folder : path);
        int total = GrokParameterNames.All(config).Count(), done = 0;
        var weights = new CheckpointWeightSource(checkpoint, config.NumExperts, device,
            name => options.Progress?.Report(new LoadProgress(name, ++done, total)));
        var model = new GrokModel(config, weights);
        try
        {
            weights.EnsureAllUsed(config.TieWordEmbeddings);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        var dtypes = string.Join("+", checkpoint.Names.Select(n => checkpoint.Info(n).DType.ToString()).Distinct().Order());
        var format = $"safetensors ({checkpoint.Files.Count} file{(checkpoint.Files.Count == 1 ? "" : "s")}, {dtypes}, " +
                     $"{(weights.Style == CheckpointNamingStyle.ModelLayers ? "model.layers" : "transformer.decoder_layer")} names)";
        return new LoadedModel(options.Name ?? new DirectoryInfo(folder).Name, model, tokenizer, folder, format);
    }

    public static Device ParseDevice(string text)
    {
        Device device;
        try
        {
            device = torch.device(text);
        }
        catch (Exception e)
        {
            throw new ArgumentException($"Unknown device '{text}': use cpu, cuda or cuda:N.", e);
        }
        if (device.type == DeviceType.CUDA && !cuda.is_available())
            throw new ArgumentException(
                $"Device '{text}' asked for CUDA, but this TorchSharp build has no usable GPU (see README: building for CUDA).");
        return device;
    }

    private static ITokenizer? FindTokenizer(string folder, GrokConfig config)
    {
        var beside = Path.Combine(folder, TokenizerFileName);
        // A compact vocabulary (vocab.json: compact id → Grok-1 id) means Grok-1's tokenizer with ids mapped.
        if (File.Exists(Path.Combine(folder, Training.CompactVocabulary.FileName)))
            return Training.CompactTokenizer.Load(folder, File.Exists(beside) ? beside : null);
        if (File.Exists(beside)) return GrokSentencePieceTokenizer.Load(beside);
        if (config.VocabSize != Grok1VocabSize) return null;
        try
        {
            return GrokSentencePieceTokenizer.Load(TokenizerLocator.FindDefaultModelPath());
        }
        catch (FileNotFoundException)
        {
            return null; // Still usable with token ids.
        }
    }
}
