using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Xai;
using GrokLens.Loading.Naming;
using GrokLens.Loading.Quantization;
using GrokLens.Model;

namespace GrokLens.Loading.Xai;

/// <summary>
/// Supplies weights from xAI's raw release (placed by <see cref="XaiFileSlots"/>). Quantised projections are dequantised
/// as xAI does, bf16(q·s) (SPEC §4.3), unless taken as int8 through <see cref="TryCreateQuantized"/>.
/// </summary>
public sealed class XaiWeightSource(XaiCheckpoint checkpoint) : IWeightSource, IQuantizedWeightSource
{
    public TorchSharp.torch.Tensor Create(WeightId id, long[] shape)
    {
        var loaded = Load(id, shape);
        if (loaded.Float is not null) return loaded.Float;
        using var quantized = loaded.Quantized!;
        return quantized.Dequantize();
    }

    public QuantizedWeight? TryCreateQuantized(WeightId id, long[] shape)
    {
        var loaded = Load(id, shape);
        loaded.Float?.Dispose();
        return loaded.Quantized;
    }

    private XaiLoaded Load(WeightId id, long[] shape)
    {
        var (index, transposed) = XaiFileSlots.Locate(id, checkpoint.NumLayers)
            ?? throw new CheckpointFormatException(checkpoint.Folder, id.ToString(),
                "xAI's raw release has no such tensor (it is Grok-1: tied embedding, no dense MLP)");
        var loaded = checkpoint.Load(index, transposed);
        var actual = loaded.Float?.shape ?? loaded.Quantized!.Shape;
        if (!actual.SequenceEqual(shape))
        {
            loaded.Float?.Dispose();
            loaded.Quantized?.Dispose();
            throw new CheckpointFormatException(loaded.Path, id.ToString(),
                $"holds shape [{string.Join(", ", actual)}] (PyTorch layout) but the config needs [{string.Join(", ", shape)}]; " +
                "is the config right, and are the files in the order of SPEC §4.2?");
        }
        return loaded;
    }
}
