using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Kernels;
using GrokLens.Loading.Naming;
using GrokLens.Loading.Quantization;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading.Gguf;

/// <summary>
/// Supplies weights from a GGUF file through <see cref="TensorNameTables.Gguf"/>. GGUF lists dims innermost first, so a
/// tensor's PyTorch shape is its <c>ne</c> reversed with the same bytes: {in, out} is [out, in] and {in, out, E} is
/// [E, out, in] — no transpose.
/// </summary>
public sealed class GgufWeightSource(GgufFile file, int numExperts) : IWeightSource, IQuantizedWeightSource, IInt8KernelSource
{
    private static TensorNameTable Names => TensorNameTables.Gguf;

    public Tensor Create(WeightId id, long[] shape)
    {
        var stored = Find(id, shape);
        if (stored is not null) return file.LoadFloat32(stored);
        return ExpertStack.Build(shape, numExperts, CPU, e => file.LoadFloat32(FindExpert(id, e, shape[1..])));
    }

    /// <summary>Q8_0 matrices as int8 values with one scale per block of 32 inputs; null for other types.</summary>
    public QuantizedWeight? TryCreateQuantized(WeightId id, long[] shape)
    {
        var stored = Find(id, shape);
        if (stored is not null)
            return file.Info(stored).Type == GgmlType.Q8_0 ? file.LoadQuantized(stored) : null;
        var first = FindExpert(id, 0, shape[1..]);
        if (file.Info(first).Type != GgmlType.Q8_0) return null;
        return QuantizedWeight.Stack(Enumerable.Range(0, numExperts)
            .Select(e => file.LoadQuantized(FindExpert(id, e, shape[1..]))).ToList());
    }

    /// <summary>Q8_0 matrices in place in the mapped file (valid while it is open); null for other types.</summary>
    public KernelWeight? TryMapInt8(WeightId id, long[] shape)
    {
        var stored = Find(id, shape);
        if (stored is not null)
        {
            if (file.Info(stored).Type != GgmlType.Q8_0) return null;
            var matrix = file.Q8_0Matrix(stored);
            return new KernelWeight(id.IsExpertStack ? KernelWeight.SplitExperts(matrix, shape[0]) : [matrix], null);
        }
        var experts = Enumerable.Range(0, numExperts).Select(e => FindExpert(id, e, shape[1..])).ToList();
        if (experts.Any(name => file.Info(name).Type != GgmlType.Q8_0)) return null;
        return new KernelWeight(experts.Select(file.Q8_0Matrix).ToArray(), null);
    }

    /// <summary>The stored name of a whole tensor after checking its shape, or null for experts stored separately.</summary>
    private string? Find(WeightId id, long[] shape)
    {
        foreach (var candidate in Names.Names(id))
            if (file.Contains(candidate))
                return Checked(candidate, shape);
        if (id.IsExpertStack && file.Contains(Names.PerExpertName(id, 0)!)) return null;
        throw new CheckpointFormatException(file.Path, Names.PreferredName(id),
            $"missing: the model needs this tensor with PyTorch shape [{string.Join(", ", shape)}] " +
            $"(GGUF dims {{{string.Join(", ", shape.Reverse())}}}).");
    }

    private string FindExpert(WeightId id, int expert, long[] shape)
    {
        var name = Names.PerExpertName(id, expert)!;
        if (!file.Contains(name))
            throw new CheckpointFormatException(file.Path, name, $"missing: the config needs {numExperts} experts (stored stacked or one per expert).");
        return Checked(name, shape);
    }

    private string Checked(string stored, long[] shape)
    {
        var info = file.Info(stored);
        if (!info.Shape.SequenceEqual(shape))
            throw new CheckpointFormatException(file.Path, stored,
                $"GGUF dims {{{string.Join(", ", info.Dimensions)}}} do not match the config's " +
                $"{{{string.Join(", ", shape.Reverse())}}} (PyTorch shape [{string.Join(", ", shape)}]).");
        return stored;
    }

    /// <summary>"gguf v3 (F32+Q8_0)" for the model panel.</summary>
    public string Format => $"gguf v{file.Version} ({string.Join("+", file.TensorNames.Select(n => file.Info(n).Type.ToString()).Distinct().Order())})";
}
