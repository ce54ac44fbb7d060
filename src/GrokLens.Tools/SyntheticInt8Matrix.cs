using System.Runtime.InteropServices;
using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Kernels;
using static TorchSharp.torch;

namespace GrokLens.Tools;

/// <summary>
/// A random int8 weight matrix in native memory, in one of the kernels' layouts, for kernel benchmarks and tests:
/// Q8_0 blocks as a GGUF file holds them, or row-scaled int8 with bfloat16-valued scales (some negative) as the
/// repacked xAI release holds them. <see cref="ToQuantizedWeight"/> gives the same weights as int8 + float32 scale
/// tensors, for dequantise-then-matmul.
/// </summary>
public sealed unsafe class SyntheticInt8Matrix : IDisposable
{
    private byte* _values;
    private float* _scales;

    private SyntheticInt8Matrix(Int8Matrix matrix, byte* values, float* scales)
    {
        Matrix = matrix;
        _values = values;
        _scales = scales;
    }

    public Int8Matrix Matrix { get; }

    public static SyntheticInt8Matrix Q8_0(long rows, long columns, long seed)
    {
        long bytes = rows * columns / GgmlTypes.Q8_0BlockElements * GgmlTypes.Q8_0BlockBytes;
        var values = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        using (var stream = new UnmanagedMemoryStream(values, bytes, bytes, FileAccess.Write))
            SyntheticTensors.WriteQ8_0(stream, rows * columns, columns, SyntheticRandom.Stream(seed, 0));
        return new SyntheticInt8Matrix(Int8Matrix.Q8_0(values, rows, columns), values, null);
    }

    public static SyntheticInt8Matrix RowScaled(long rows, long columns, int scaleBlocks, bool roundToBFloat16, long seed)
    {
        var values = (byte*)NativeMemory.AlignedAlloc((nuint)(rows * columns), 64);
        using (var stream = new UnmanagedMemoryStream(values, rows * columns, rows * columns, FileAccess.Write))
            SyntheticTensors.WriteInt8(stream, rows * columns, SyntheticRandom.Stream(seed, 0));
        var scales = (float*)NativeMemory.AlignedAlloc((nuint)(rows * scaleBlocks * sizeof(float)), 64);
        var random = SyntheticRandom.Stream(seed, 1);
        float scale = SyntheticTensors.MatrixScale(columns);
        for (long i = 0; i < rows * scaleBlocks; i++)
            scales[i] = BFloat16Rounding.Round(scale * (0.25f + random.NextFloat()) * (random.NextFloat() < 0.2f ? -1 : 1));
        return new SyntheticInt8Matrix(Int8Matrix.RowScaled((sbyte*)values, scales, rows, columns, scaleBlocks, roundToBFloat16), values, scales);
    }

    /// <summary>The same weights as int8 values [rows, columns] and float32 scales, read by GrokLens's existing code.</summary>
    public QuantizedWeight ToQuantizedWeight() => QuantizedWeightOf(Matrix);

    /// <summary>Any kernel matrix (e.g. a <see cref="Int8Matrix.RowRange"/> of a mapped file) copied into a <see cref="QuantizedWeight"/>.</summary>
    public static QuantizedWeight QuantizedWeightOf(Int8Matrix w)
    {
        if (w.Format == Int8Format.Q8_0) return Checkpoints.Gguf.Q8_0.Read(w.Values, [w.Rows, w.Columns]);
        var values = empty([w.Rows, w.Columns], dtype: ScalarType.Int8);
        var scales = empty([w.Rows, w.ScaleBlocks], dtype: ScalarType.Float32);
        using (var flat = values.view(-1)) Checkpoints.TensorBytes.CopyInto(flat, w.Values, w.Rows * w.Columns);
        using (var flat = scales.view(-1)) Checkpoints.TensorBytes.CopyInto(flat, (byte*)w.Scales, w.Rows * w.ScaleBlocks * sizeof(float));
        return new QuantizedWeight(values, scales, (int)w.BlockLength, w.RoundToBFloat16);
    }

    public void Dispose()
    {
        if (_values == null) return;
        NativeMemory.AlignedFree(_values);
        if (_scales != null) NativeMemory.AlignedFree(_scales);
        _values = null;
        _scales = null;
    }
}
