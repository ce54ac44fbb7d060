using GrokLens.Checkpoints;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading;

/// <summary>
/// Supplies weights from a checkpoint as the model is built: each tensor is read lazily, upcast to float32 and placed
/// on the target device. Shapes are checked before reading, and after the build <see cref="EnsureAllUsed"/> reports
/// tensors the config did not ask for (a sign of the wrong config).
/// </summary>
public sealed class CheckpointWeightSource(ITensorSource source, int numExperts, Device device,
    Action<string>? onTensorLoaded = null) : IWeightSource
{
    private readonly HashSet<string> used = new();

    public CheckpointNamingStyle Style { get; } = CheckpointNaming.Detect(source);

    public Tensor Create(string name, long[] shape)
    {
        var tensor = Find(name, shape);
        onTensorLoaded?.Invoke(name);
        return tensor;
    }

    private Tensor Find(string name, long[] shape)
    {
        foreach (var candidate in CheckpointNaming.Candidates(name, Style))
            if (source.Contains(candidate))
                return LoadChecked(candidate, shape);

        if (CheckpointNaming.IsExpertStack(name))
            return LoadPerExpert(name, shape);

        throw new CheckpointFormatException(source.Description, CheckpointNaming.Candidates(name, Style)[0],
            $"missing: the config needs this tensor with shape [{string.Join(", ", shape)}].");
    }

    /// <summary>Throws if the checkpoint holds tensors the model did not use.</summary>
    public void EnsureAllUsed(bool tiedEmbeddings)
    {
        var unused = source.Names.Where(n => !used.Contains(n))
            // Tied checkpoints sometimes also store the (identical) output head.
            .Where(n => !(tiedEmbeddings && n == GrokParameterNames.LmHead))
            .OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (unused.Count > 0)
            throw new CheckpointFormatException(source.Description, unused[0],
                $"not used by the model: {unused.Count} tensor(s) the config does not account for " +
                $"(e.g. {string.Join(", ", unused.Take(3))}). Does config.json match the checkpoint?");
    }

    private Tensor LoadChecked(string stored, long[] shape)
    {
        var info = source.Info(stored);
        if (!info.Shape.SequenceEqual(shape))
            throw new CheckpointFormatException(source.Description, stored,
                $"shape [{string.Join(", ", info.Shape)}] does not match the config's [{string.Join(", ", shape)}].");
        used.Add(stored);
        return source.LoadFloat32(stored, device);
    }

    private Tensor LoadPerExpert(string canonical, long[] shape)
    {
        var perExpertShape = shape[1..];
        return ExpertStack.Build(shape, numExperts, device, expert =>
        {
            var stored = CheckpointNaming.PerExpertName(canonical, expert, Style);
            if (!source.Contains(stored))
                throw new CheckpointFormatException(source.Description, stored,
                    $"missing: the config needs {numExperts} experts with shape [{string.Join(", ", perExpertShape)}] " +
                    "(stored either stacked or one tensor per expert).");
            return LoadChecked(stored, perExpertShape);
        });
    }
}
