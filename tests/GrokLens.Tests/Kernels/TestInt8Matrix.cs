using GrokLens.Kernels;
using GrokLens.Tools;

namespace GrokLens.Tests.Kernels;

/// <summary>
/// A random int8 matrix for the kernels, with its dequantised float32 weights made by GrokLens's existing dequantisers
/// (ggml-exact Q8_0 reading; QuantizedWeight with torch's bfloat16 rounding): the "dequantise-then-matmul" reference.
/// </summary>
internal sealed class TestInt8Matrix : IDisposable
{
    private readonly SyntheticInt8Matrix _matrix;

    private TestInt8Matrix(SyntheticInt8Matrix matrix)
    {
        _matrix = matrix;
        using var quantized = matrix.ToQuantizedWeight();
        Dequantized = quantized.Dequantize();
    }

    public Int8Matrix Matrix => _matrix.Matrix;

    /// <summary>W [rows, columns] float32.</summary>
    public Tensor Dequantized { get; }

    public static TestInt8Matrix Q8_0(long rows, long columns, int seed) => new(SyntheticInt8Matrix.Q8_0(rows, columns, seed));

    /// <summary>xAI-style: int8 [rows, columns], bfloat16-valued scales [rows, scaleBlocks], some negative.</summary>
    public static TestInt8Matrix RowScaled(long rows, long columns, int scaleBlocks, bool roundToBFloat16, int seed) =>
        new(SyntheticInt8Matrix.RowScaled(rows, columns, scaleBlocks, roundToBFloat16, seed));

    public void Dispose()
    {
        Dequantized.Dispose();
        _matrix.Dispose();
    }
}
