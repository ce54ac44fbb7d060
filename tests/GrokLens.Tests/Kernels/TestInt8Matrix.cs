using System.Runtime.InteropServices;
using GrokLens.Checkpoints;
using GrokLens.Kernels;

namespace GrokLens.Tests.Kernels;

/// <summary>
/// A random int8 matrix in native memory in one of the kernels' layouts, with its dequantised float32 weights made
/// by the existing dequantisers (ggml-exact Q8_0 reading, QuantizedWeight with torch's bfloat16 rounding): the
/// "dequantise-then-matmul" the kernels are checked against.
/// </summary>
internal sealed unsafe class TestInt8Matrix : IDisposable
{
    private readonly void* _values;
    private readonly void* _scales;

    private TestInt8Matrix(Int8Matrix matrix, Tensor dequantized, void* values, void* scales)
    {
        Matrix = matrix;
        Dequantized = dequantized;
        _values = values;
        _scales = scales;
    }

    public Int8Matrix Matrix { get; }

    /// <summary>W [rows, columns] float32.</summary>
    public Tensor Dequantized { get; }

    public static TestInt8Matrix Q8_0(long rows, long columns, int seed)
    {
        var random = new Random(seed);
        long blocks = rows * columns / 32;
        var bytes = (byte*)NativeMemory.Alloc((nuint)(blocks * 34));
        for (long b = 0; b < blocks; b++)
        {
            var block = bytes + b * 34;
            *(ushort*)block = BitConverter.HalfToUInt16Bits((Half)(0.001f + 0.02f * random.NextSingle()));
            random.NextBytes(new Span<byte>(block + 2, 32));
        }
        using var quantized = GrokLens.Checkpoints.Gguf.Q8_0.Read(bytes, [rows, columns]);
        return new TestInt8Matrix(Int8Matrix.Q8_0(bytes, rows, columns), quantized.Dequantize(), bytes, null);
    }

    /// <summary>xAI-style: int8 [rows, columns], bfloat16-valued scales [rows, scaleBlocks] (some negative, as in the release).</summary>
    public static TestInt8Matrix RowScaled(long rows, long columns, int scaleBlocks, bool roundToBFloat16, int seed)
    {
        var random = new Random(seed);
        var values = (sbyte*)NativeMemory.Alloc((nuint)(rows * columns));
        random.NextBytes(new Span<byte>(values, checked((int)(rows * columns))));
        var scales = (float*)NativeMemory.Alloc((nuint)(rows * scaleBlocks * sizeof(float)));
        for (long i = 0; i < rows * scaleBlocks; i++)
            scales[i] = BFloat16Rounding.FromBits(BFloat16Rounding.ToBits((float)(random.NextDouble() - 0.3) * 0.02f));
        var q = torch.empty([rows, columns], dtype: ScalarType.Int8);
        new ReadOnlySpan<byte>(values, (int)(rows * columns)).CopyTo(q.bytes);
        var s = torch.empty([rows, scaleBlocks], dtype: ScalarType.Float32);
        new ReadOnlySpan<byte>(scales, (int)(rows * scaleBlocks * 4)).CopyTo(s.bytes);
        using var quantized = new QuantizedWeight(q, s, (int)(columns / scaleBlocks), roundToBFloat16);
        var matrix = Int8Matrix.RowScaled(values, scales, rows, columns, scaleBlocks, roundToBFloat16);
        return new TestInt8Matrix(matrix, quantized.Dequantize(), values, scales);
    }

    public void Dispose()
    {
        Dequantized.Dispose();
        NativeMemory.Free(_values);
        if (_scales != null) NativeMemory.Free(_scales);
    }
}
