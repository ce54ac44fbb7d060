using GrokLens.Kernels;
using GrokLens.Model.SingleToken;

namespace GrokLens.Tests.Kernels;

/// <summary>
/// The decode step's matrix-vector product, dot product and scaled add against float64 math, on every instruction set
/// this CPU runs (scalar, Vector256, Vector512), on shapes that hit every loop's edge.
/// </summary>
public unsafe class FloatGemvTests
{
    private static readonly (int Rows, int Columns, int Threads)[] Shapes =
    [
        (1, 1, 1), (7, 13, 1), (37, 70, 1), (64, 256, 2),
        (1003, 272, 2), // 1.1 MB: cut into chunks that a helper thread may share
        (4096, 256, 3),
    ];

    public static TheoryData<int, int, int, KernelPath> ShapesOnEveryPath()
    {
        var data = new TheoryData<int, int, int, KernelPath>();
        foreach (var path in KernelPaths.Supported)
            foreach (var (rows, columns, threads) in Shapes) data.Add(rows, columns, threads, path);
        return data;
    }

    [Theory]
    [MemberData(nameof(ShapesOnEveryPath))]
    public void MatchesFloat64(int rows, int columns, int threads, KernelPath path)
    {
        using var scope = NewDisposeScope();
        var w = randn(rows, columns);
        var x = randn(columns);
        var y = full(rows, float.NaN);
        fixed (byte* wp = w.bytes, xp = x.bytes, yp = y.bytes)
            FloatGemv.Multiply((float*)wp, rows, columns, (float*)xp, (float*)yp, threads, path);
        var expected = w.to_type(ScalarType.Float64).matmul(x.to_type(ScalarType.Float64));
        double distance = (y.to_type(ScalarType.Float64) - expected).abs().max().item<double>();
        // Float32 sums of `columns` products of unit-scale values: a few ulps of √columns.
        Assert.True(distance <= 1e-5 * Math.Sqrt(columns), $"{rows}×{columns}, {threads} threads, {path}: {distance:E2} from float64");
    }

    [Theory]
    [MemberData(nameof(ShapesOnEveryPath))]
    public void DotAndAddScaledMatchFloat64(int rows, int columns, int threads, KernelPath path)
    {
        _ = threads;
        using var scope = NewDisposeScope();
        var a = randn(columns);
        var b = randn(columns);
        float factor = 0.37f * rows;
        float dot;
        var sum = a.clone();
        fixed (byte* ap = a.bytes, bp = b.bytes, sp = sum.bytes)
        {
            dot = FloatGemv.Dot((float*)ap, (float*)bp, columns, path);
            TokenVectorMath.AddScaled((float*)sp, (float*)bp, factor, columns, path);
        }
        double expectedDot = a.to_type(ScalarType.Float64).dot(b.to_type(ScalarType.Float64)).item<double>();
        Assert.True(Math.Abs(dot - expectedDot) <= 1e-5 * Math.Sqrt(columns), $"dot of {columns} on {path}: {dot} vs {expectedDot}");
        var expectedSum = a.to_type(ScalarType.Float64) + b.to_type(ScalarType.Float64) * factor;
        double distance = (sum.to_type(ScalarType.Float64) - expectedSum).abs().max().item<double>();
        Assert.True(distance <= 1e-6 * Math.Max(1, factor) * 4, $"x + {factor}·y of {columns} on {path}: {distance:E2} from float64");
    }
}
