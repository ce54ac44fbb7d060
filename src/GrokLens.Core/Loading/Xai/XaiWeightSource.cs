using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Xai;
using GrokLens.Kernels.Repack;
using GrokLens.Loading.Naming;
using GrokLens.Loading.Quantization;
using GrokLens.Model;

namespace GrokLens.Loading.Xai;

/// <summary>
/// Supplies weights from xAI's raw release (placed by <see cref="XaiFileSlots"/>). Quantised projections are dequantised
/// as xAI does, bf16(q·s) (SPEC §4.3), unless taken as int8 through <see cref="TryCreateQuantized"/>, or for the kernels
/// through <see cref="TryMapInt8"/>: repacked once into <paramref name="repackCache"/> (default: beside the checkpoint)
/// and mapped from there.
/// </summary>
public sealed class XaiWeightSource(XaiCheckpoint checkpoint, XaiRepackCache? repackCache = null) : IWeightSource, IQuantizedWeightSource, IInt8KernelSource
{
    /// <summary>Where the kernels' repacked copies of the int8 files live.</summary>
    public XaiRepackCache RepackCache { get; } = repackCache ?? new XaiRepackCache(XaiRepackCache.DefaultFolder(checkpoint.Folder));


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

    /// <summary>A quantised matrix's repack from the cache (built first if missing or stale); null for float tensors.</summary>
    public KernelWeight? TryMapInt8(WeightId id, long[] shape)
    {
        if (!id.IsMatrix) return null;
        var source = Path.Combine(checkpoint.Folder, XaiCheckpoint.FileName(Locate(id).Index));
        using (var file = MappedFile.Open(source))
            if (XaiTensorFile.Read(file).Scales is null) return null; // stored as floats
        var repacked = RepackCache.Open(source);
        if (!repacked.Shape.SequenceEqual(shape))
        {
            repacked.Dispose();
            throw new CheckpointFormatException(repacked.CachePath, id.ToString(),
                $"holds shape [{string.Join(", ", repacked.Shape)}] but the config needs [{string.Join(", ", shape)}]");
        }
        return new KernelWeight(id.IsExpertStack ? KernelWeight.SplitExperts(repacked.Matrix, shape[0]) : [repacked.Matrix], repacked);
    }

    private (int Index, bool Transposed) Locate(WeightId id) => XaiFileSlots.Locate(id, checkpoint.NumLayers)
        ?? throw new CheckpointFormatException(checkpoint.Folder, id.ToString(),
            "xAI's raw release has no such tensor (it is Grok-1: tied embedding, no dense MLP)");

    private XaiLoaded Load(WeightId id, long[] shape)
    {
        var (index, transposed) = Locate(id);
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
