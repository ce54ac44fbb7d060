using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Loading.Quantization;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading.Gguf;

/// <summary>
/// Supplies canonical parameters from a GGUF file. GGUF lists dims innermost first, so a tensor's PyTorch shape is its
/// <c>ne</c> reversed with the same bytes: {in, out} is [out, in] and {in, out, E} is [E, out, in] — no transpose.
/// </summary>
public sealed class GgufWeightSource(GgufFile file, int numExperts) : IWeightSource, IQuantizedWeightSource
{
    private readonly HashSet<string> used = new(StringComparer.Ordinal);

    public Tensor Create(string name, long[] shape)
    {
        var stored = Find(name, shape);
        if (stored is not null) return file.LoadFloat32(stored);
        return ExpertStack.Build(shape, numExperts, CPU, e => file.LoadFloat32(FindExpert(name, e, shape[1..])));
    }

    /// <summary>Q8_0 matrices as int8 values with one scale per block of 32 inputs; null for other types.</summary>
    public QuantizedWeight? TryCreateQuantized(string name, long[] shape)
    {
        var stored = Find(name, shape);
        if (stored is not null)
            return file.Info(stored).Type == GgmlType.Q8_0 ? file.LoadQuantized(stored) : null;
        var first = FindExpert(name, 0, shape[1..]);
        if (file.Info(first).Type != GgmlType.Q8_0) return null;
        return QuantizedWeight.Stack(Enumerable.Range(0, numExperts)
            .Select(e => file.LoadQuantized(FindExpert(name, e, shape[1..]))).ToList());
    }

    /// <summary>The stored name of a non-split tensor after checking its shape, or null for experts stored separately.</summary>
    private string? Find(string canonical, long[] shape)
    {
        foreach (var candidate in GgufTensorNames.For(canonical))
            if (file.Contains(candidate))
                return Checked(candidate, shape);
        if (CheckpointNaming.IsExpertStack(canonical) && file.Contains(GgufTensorNames.PerExpert(canonical, 0))) return null;
        throw new CheckpointFormatException(file.Path, GgufTensorNames.For(canonical)[0],
            $"missing: the model needs this tensor with PyTorch shape [{string.Join(", ", shape)}] " +
            $"(GGUF dims {{{string.Join(", ", shape.Reverse())}}}).");
    }

    private string FindExpert(string canonical, int expert, long[] shape)
    {
        var name = GgufTensorNames.PerExpert(canonical, expert);
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
        used.Add(stored);
        return stored;
    }

    /// <summary>Throws if the file holds tensors the model did not use (a config/file mismatch).</summary>
    public void EnsureAllUsed()
    {
        var unused = file.TensorNames.Where(n => !used.Contains(n)).ToList();
        if (unused.Count > 0)
            throw new CheckpointFormatException(file.Path, unused[0],
                $"not used by the model: {unused.Count} tensor(s) the metadata does not account for (e.g. {string.Join(", ", unused.Take(3))}).");
    }

    /// <summary>"gguf v3 (F32+Q8_0)" for the model panel.</summary>
    public string Format => $"gguf v{file.Version} ({string.Join("+", file.TensorNames.Select(n => file.Info(n).Type.ToString()).Distinct().Order())})";
}
