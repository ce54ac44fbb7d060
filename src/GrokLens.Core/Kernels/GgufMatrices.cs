using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Gguf;

namespace GrokLens.Kernels;

/// <summary>Q8_0 tensors of a mapped GGUF file as kernel matrices, in place: no byte is copied or converted.</summary>
public static class GgufMatrices
{
    /// <summary>
    /// The Q8_0 tensor <paramref name="name"/> as a matrix of [∏ outer dims, innermost] (a stacked expert tensor
    /// [E, out, in] is E·out rows); valid while <paramref name="file"/> is open.
    /// </summary>
    public static unsafe Int8Matrix Q8_0Matrix(this GgufFile file, string name)
    {
        var info = file.Info(name);
        if (info.Type != GgmlType.Q8_0) throw new CheckpointFormatException(file.Path, name, $"stored as {info.Type}, not Q8_0");
        long columns = info.Dimensions[0];
        return Int8Matrix.Q8_0(file.DataPointer(info), info.ElementCount / columns, columns, owner: file);
    }
}
