using GrokLens.Checkpoints;
using GrokLens.Loading.Naming;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading;

/// <summary>
/// Supplies weights from a safetensors checkpoint as the model is built: each tensor is found through the checkpoint's
/// name table, read lazily, upcast to float32 and placed on the target device. Shapes are checked before reading.
/// </summary>
public sealed class CheckpointWeightSource(ITensorSource source, int numExperts, Device device) : IWeightSource
{
    public TensorNameTable Names { get; } = CheckpointNaming.Detect(source);

    public Tensor Create(WeightId id, long[] shape)
    {
        foreach (var candidate in Names.Names(id))
            if (source.Contains(candidate))
                return LoadChecked(candidate, shape);

        if (id.IsExpertStack && Names.PerExpertName(id, 0) is { } first && source.Contains(first))
            return LoadPerExpert(id, shape);

        throw new CheckpointFormatException(source.Description, Names.Names(id).FirstOrDefault() ?? id.ToString(),
            $"missing: the config needs this tensor with shape [{string.Join(", ", shape)}].");
    }

    private Tensor LoadChecked(string stored, long[] shape)
    {
        var info = source.Info(stored);
        if (!info.Shape.SequenceEqual(shape))
            throw new CheckpointFormatException(source.Description, stored,
                $"shape [{string.Join(", ", info.Shape)}] does not match the config's [{string.Join(", ", shape)}].");
        return source.LoadFloat32(stored, device);
    }

    private Tensor LoadPerExpert(WeightId id, long[] shape)
    {
        var perExpertShape = shape[1..];
        return ExpertStack.Build(shape, numExperts, device, expert =>
        {
            var stored = Names.PerExpertName(id, expert)!;
            if (!source.Contains(stored))
                throw new CheckpointFormatException(source.Description, stored,
                    $"missing: the config needs {numExperts} experts with shape [{string.Join(", ", perExpertShape)}] " +
                    "(stored either stacked or one tensor per expert).");
            return LoadChecked(stored, perExpertShape);
        });
    }
}
