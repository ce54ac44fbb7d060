using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Xai;
using GrokLens.Loading.Quantization;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading.Xai;

/// <summary>
/// Supplies canonical parameters from xAI's raw release. Quantised projections are dequantised as xAI does,
/// bf16(q·s) (SPEC §4.3), unless taken as int8 through <see cref="TryCreateQuantized"/>.
/// </summary>
public sealed class XaiWeightSource(XaiCheckpoint checkpoint) : IWeightSource, IQuantizedWeightSource
{
    public Tensor Create(string name, long[] shape)
    {
        var loaded = Load(name, shape);
        if (loaded.Float is not null) return loaded.Float;
        using var quantized = loaded.Quantized!;
        return quantized.Dequantize();
    }

    public QuantizedWeight? TryCreateQuantized(string name, long[] shape)
    {
        var loaded = Load(name, shape);
        loaded.Float?.Dispose();
        return loaded.Quantized;
    }

    private XaiLoaded Load(string name, long[] shape)
    {
        var loaded = checkpoint.Load(name);
        var actual = loaded.Float?.shape ?? loaded.Quantized!.Shape;
        if (!actual.SequenceEqual(shape))
        {
            loaded.Float?.Dispose();
            loaded.Quantized?.Dispose();
            throw new CheckpointFormatException(loaded.Path, name,
                $"holds shape [{string.Join(", ", actual)}] (PyTorch layout) but the config needs [{string.Join(", ", shape)}]; " +
                "is the config right, and are the files in the order of SPEC §4.2?");
        }
        return loaded;
    }
}
