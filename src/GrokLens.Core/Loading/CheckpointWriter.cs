using GrokLens.Checkpoints;
using GrokLens.Loading.Naming;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading;

/// <summary>How to store a model's weights.</summary>
public sealed record SaveOptions
{
    /// <summary>Storage dtype: Float32, BFloat16 or Float16 (loading upcasts to float32).</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;
    public CheckpointNamingStyle Naming { get; init; } = CheckpointNamingStyle.TransformerDecoderLayer;
    /// <summary>One tensor per expert (as Hugging Face conversions do) instead of one stacked [E, out, in] tensor.</summary>
    public bool SplitExperts { get; init; }
    /// <summary>Shard the weights into files of at most this many bytes, with an index; null for one file.</summary>
    public long? MaxShardBytes { get; init; }
    public bool Overwrite { get; init; }
}

/// <summary>Writes a model folder that <see cref="ModelLoader"/> reads back: config.json plus safetensors weights.</summary>
public static class CheckpointWriter
{
    public static void Save(GrokModel model, string folder, SaveOptions? options = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        options ??= new SaveOptions();
        if (model.MatrixSource is not null)
            throw new InvalidOperationException($"Cannot save a model whose layer matrices are {model.MatrixSource.Description}: they are not its parameters.");
        Directory.CreateDirectory(folder);
        var tensors = StoredTensors(model, options).ToList();
        try
        {
            if (options.MaxShardBytes is long shardBytes)
                SafetensorsWriter.WriteSharded(folder, tensors, shardBytes, metadata, options.Overwrite);
            else
                SafetensorsWriter.Write(Path.Combine(folder, SafetensorsCheckpoint.SingleFileName), tensors, metadata, options.Overwrite);
            File.WriteAllText(Path.Combine(folder, ModelLoader.ConfigFileName), model.Config.ToJson());
        }
        finally
        {
            foreach (var (_, tensor) in tensors) tensor.Dispose();
        }
    }

    private static IEnumerable<(string Name, Tensor Tensor)> StoredTensors(GrokModel model, SaveOptions options)
    {
        var names = TensorNameTables.For(options.Naming);
        foreach (var (id, parameter) in model.Weights)
        {
            var stored = parameter.detach().to(options.DType).cpu();
            if (options.SplitExperts && id.IsExpertStack)
            {
                for (int expert = 0; expert < stored.shape[0]; expert++)
                    yield return (names.PerExpertName(id, expert)!, stored[expert].contiguous());
                stored.Dispose();
            }
            else
            {
                yield return (names.PreferredName(id), stored);
            }
        }
    }
}
