using GrokLens.Checkpoints;
using GrokLens.Engine;
using GrokLens.Loading.Placement;
using GrokLens.Model;
using GrokLens.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading;

/// <summary>
/// Loads a model from any supported checkpoint (see <see cref="OpenedCheckpoint.Open"/>): safetensors with
/// <c>config.json</c> (single or sharded; F32, BF16 or F16, upcast to float32), a GGUF file of arch grok, or xAI's raw
/// <c>ckpt-0</c> release; places layers per a device map, optionally keeping int8 weights or streaming layers; and a tokenizer:
/// <c>tokenizer.model</c> beside the weights, else Grok-1's own for a 131,072-entry vocabulary, else none (token ids only).
/// </summary>
public static class ModelLoader
{
    public const string ConfigFileName = "config.json";
    public const string TokenizerFileName = "tokenizer.model";
    private const int Grok1VocabSize = 131072;

    /// <summary>The config of a checkpoint in any supported format, without loading its weights.</summary>
    public static GrokConfig ReadConfig(string path)
    {
        using var checkpoint = OpenedCheckpoint.Open(path, FolderOf(path));
        return checkpoint.Config;
    }

    /// <summary>The model folder of a checkpoint folder or file.</summary>
    public static string FolderOf(string path) => Directory.Exists(path) ? Path.GetFullPath(path)
        : File.Exists(path) ? Path.GetDirectoryName(Path.GetFullPath(path))!
        : throw new DirectoryNotFoundException($"Model not found: '{path}' is neither a folder nor a file.");

    public static LoadedModel Load(string path, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        var folder = FolderOf(path);
        if (options.StreamLayers && options.Int8Weights)
            throw new ArgumentException("Choose either int8 weights or layer streaming, not both.");

        var checkpoint = OpenedCheckpoint.Open(path, folder, options.Int8CacheFolder);
        var config = checkpoint.Config;
        var map = DeviceMapFor(options, config);
        var residency = options.StreamLayers ? WeightResidency.Streamed : options.Int8Weights ? WeightResidency.Int8 : WeightResidency.Resident;
        var range = options.Layers?.CheckedFor(config);
        var inventory = GrokModel.Inventory(config)
            .Where(w => range is not { } r || LayerRangeWeightSource.Needs(config, r, w.Id)).ToList();
        var matrices = inventory.Where(w => w.Id.IsLayerWeight && w.Id.IsMatrix).ToList();
        int total = residency == WeightResidency.Streamed ? inventory.Count - matrices.Count : inventory.Count, done = 0;
        void Loaded(WeightId id) => options.Progress?.Report(new LoadProgress(id.ToString(), ++done, total));
        ILayerMatrixSource? matrixSource = null;
        GrokModel? model = null;
        try
        {
            var tokenizer = options.Tokenizer ?? FindTokenizer(folder, config);
            matrixSource = residency switch
            {
                WeightResidency.Int8 when checkpoint.StoredInt8 is null => throw new ArgumentException(
                    $"int8 weights need a checkpoint that stores int8 matrices (GGUF Q8_0 or xAI's raw release); this one is {checkpoint.Format}."),
                WeightResidency.Int8 => new Int8LayerMatrices(checkpoint.Weights, matrices, map, Loaded, checkpoint),
                WeightResidency.Streamed => new StreamingLayerMatrices(checkpoint.Weights, matrices, config.NumLayers, map, options.LayerProgress, checkpoint),
                _ => null,
            };
            IWeightSource weights = new PlacingWeightSource(checkpoint.Weights, map, Loaded);
            if (range is { } held) weights = new LayerRangeWeightSource(weights, config, held);
            model = new GrokModel(config, weights, matrixSource);
            if (residency == WeightResidency.Resident) checkpoint.Dispose(); // Resident weights no longer need the files; int8 and streamed own them.
            var placement = $"{(range is { } part ? $"{part} of 0-{config.NumLayers - 1} held, " : "")}{map}{(matrixSource is null ? "" : "; " + matrixSource.Description)}";
            return new LoadedModel(options.Name ?? new DirectoryInfo(folder).Name, model, tokenizer, folder,
                $"{checkpoint.Format}; layers {placement}")
            {
                CheckpointFormat = checkpoint.Format,
                Quantisation = Quantisation(residency, checkpoint.StoredInt8),
                Residency = residency,
                DeviceMap = map.ToString(),
                WeightBytesByDevice = WeightMemory.ByDevice(model),
            };
        }
        catch
        {
            if (model is not null) model.Dispose(); // Disposes its matrix source too.
            else matrixSource?.Dispose();
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>What the loaded weights are: int8 kept int8 (resident int8, or streamed from an int8 checkpoint), or float32.</summary>
    private static string Quantisation(WeightResidency residency, string? storedInt8) => storedInt8 is null
        ? "none (float32)"
        : residency == WeightResidency.Resident
            ? $"none (float32, dequantised at load from {storedInt8})"
            : $"int8 weight-only ({storedInt8}; int8 kernels on the CPU, experts dequantised one at a time elsewhere)";

    /// <summary>The user's map, an automatic one ("auto"), or every layer on <see cref="LoadOptions.Device"/>.</summary>
    private static DeviceMap DeviceMapFor(LoadOptions options, GrokConfig config)
    {
        if (options.DeviceMap is null) return DeviceMap.Uniform(config.NumLayers, ParseDevice(options.Device).ToString());
        var map = options.DeviceMap.Trim() == "auto"
            ? DeviceMap.Auto(config.NumLayers, LayerBytes(config, options.Int8Weights), GlobalBytes(config), DeviceMemory.Available())
            : DeviceMap.Parse(options.DeviceMap, config.NumLayers);
        foreach (var device in Enumerable.Range(0, map.NumLayers).Select(map.DeviceOf).Distinct()) ParseDevice(device);
        return map;
    }

    /// <summary>Bytes one layer's weights take: float32, or int8 matrices (scales not counted) with float32 norms and router.</summary>
    public static long LayerBytes(GrokConfig config, bool int8) => GrokModel.Inventory(config)
        .Where(w => w.Id.Layer == 0)
        .Sum(w => w.Shape.Aggregate(1L, (a, b) => a * b) * (int8 && w.Id.IsMatrix ? 1 : 4));

    /// <summary>Bytes of the embedding (and untied head) and final norm, float32.</summary>
    public static long GlobalBytes(GrokConfig config) => GrokModel.Inventory(config)
        .Where(w => !w.Id.IsLayerWeight)
        .Sum(w => w.Shape.Aggregate(1L, (a, b) => a * b) * 4);

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

    /// <summary>
    /// The tokenizer of a model folder: Grok-1's with ids mapped for a compact vocabulary (<c>vocab.json</c>), the
    /// <c>tokenizer.model</c> beside the weights, else Grok-1's own for a 131,072-entry vocabulary, else none.
    /// </summary>
    public static ITokenizer? FindTokenizer(string folder, GrokConfig config)
    {
        var beside = Path.Combine(folder, TokenizerFileName);
        // A compact vocabulary (vocab.json: compact id → Grok-1 id) means Grok-1's tokenizer with ids mapped.
        if (File.Exists(Path.Combine(folder, Training.CompactVocabulary.FileName)))
            return Training.CompactTokenizer.Load(folder, File.Exists(beside) ? beside : null);
        if (File.Exists(beside)) return GrokSentencePieceTokenizer.Load(beside);
        // Grok-2's own byte-level BPE (xAI's tokenizer.tok.json or a tokenizer.json conversion), never Grok-1's.
        if (config.ResidualMoe) return Grok2Tokenizer.FindBeside(folder);
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
