using GrokLens.Kernels;

namespace GrokLens.Tests.Kernels;

/// <summary>The decode step's matrix-vector product against float64 math, on shapes that hit every loop's edge.</summary>
public unsafe class FloatGemvTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 13, 1)]
    [InlineData(37, 70, 1)]
    [InlineData(64, 256, 2)]
    [InlineData(1003, 272, 2)] // 1.1 MB: cut into chunks that a helper thread may share
    [InlineData(4096, 256, 3)]
    public void MatchesFloat64(int rows, int columns, int threads)
    {
        using var scope = NewDisposeScope();
        var w = randn(rows, columns);
        var x = randn(columns);
        var y = full(rows, float.NaN);
        fixed (byte* wp = w.bytes, xp = x.bytes, yp = y.bytes)
            FloatGemv.Multiply((float*)wp, rows, columns, (float*)xp, (float*)yp, threads);
        var expected = w.to_type(ScalarType.Float64).matmul(x.to_type(ScalarType.Float64));
        double distance = (y.to_type(ScalarType.Float64) - expected).abs().max().item<double>();
        // Float32 sums of `columns` products of unit-scale values: a few ulps of √columns.
        Assert.True(distance <= 1e-5 * Math.Sqrt(columns), $"{rows}×{columns}, {threads} threads: {distance:E2} from float64");
    }
}
