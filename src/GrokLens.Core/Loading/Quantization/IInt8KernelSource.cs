using GrokLens.Kernels;
using GrokLens.Model;

namespace GrokLens.Loading.Quantization;

/// <summary>A weight source whose int8 matrices the kernels can read where they lie (a mapped file), without a copy.</summary>
public interface IInt8KernelSource
{
    /// <summary>
    /// The stored int8 matrix of a weight for the kernels: one part, or one per expert for an expert stack [E, out, in];
    /// null when the weight is not stored int8. The parts stay valid until <see cref="KernelWeight.Owner"/> (if any)
    /// is disposed, and while the source's files are open.
    /// </summary>
    KernelWeight? TryMapInt8(WeightId id, long[] shape);
}

/// <summary>An int8 weight as kernel matrices: one part, or one per expert; <paramref name="Owner"/> releases its mapping.</summary>
public sealed record KernelWeight(IReadOnlyList<Int8Matrix> Parts, IDisposable? Owner)
{
    /// <summary>One part per expert from a matrix of E·out rows.</summary>
    public static IReadOnlyList<Int8Matrix> SplitExperts(Int8Matrix stacked, long experts)
    {
        long rows = stacked.Rows / experts;
        return Enumerable.Range(0, (int)experts).Select(e => stacked.RowRange(e * rows, rows)).ToArray();
    }

    /// <summary>The bytes the kernels read: values and scales.</summary>
    public long Bytes => Parts.Sum(p => p.ByteSize);
}
