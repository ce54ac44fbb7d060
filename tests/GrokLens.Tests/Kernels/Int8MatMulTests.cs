using GrokLens.Kernels;

namespace GrokLens.Tests.Kernels;

/// <summary>
/// The int8 kernels against float64 math on the dequantised weights and against dequantise-then-torch-matmul, on every
/// path this CPU runs, for odd sizes, token counts around the tile sizes and thread counts that do not divide the rows.
/// </summary>
public unsafe class Int8MatMulTests
{
    public static TheoryData<KernelPath> Paths()
    {
        var data = new TheoryData<KernelPath>();
        foreach (var path in KernelPaths.Supported) data.Add(path);
        return data;
    }

    private static readonly (long Rows, long Columns)[] Shapes = [(1, 32), (3, 64), (5, 96), (13, 160), (67, 256), (130, 512)];
    private static readonly long[] TokenCounts = [1, 2, 3, 4, 5, 7, 9, 17];

    [Theory]
    [MemberData(nameof(Paths))]
    public void Q8_0MatchesFloat64AndTorchWithinFloat32Rounding(KernelPath path)
    {
        int seed = 0;
        foreach (var (rows, columns) in Shapes)
        {
            using var matrix = TestInt8Matrix.Q8_0(rows, columns, seed++);
            foreach (var tokens in TokenCounts)
                AssertMatches(matrix, tokens, path, threads: 1 + (int)(tokens % 3));
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void RowScaledMatchesFloat64AndTorchWithinFloat32Rounding(KernelPath path)
    {
        int seed = 100;
        // (columns, scale blocks): one scale per row, Grok's 8 blocks, blocks of 32, and blocks of 24 (scalar fallback).
        foreach (var (rows, columns, blocks) in new (long, long, int)[] { (5, 96, 1), (13, 256, 8), (67, 96, 3), (9, 72, 3), (130, 512, 8) })
        foreach (var bf16 in new[] { true, false })
        {
            using var matrix = TestInt8Matrix.RowScaled(rows, columns, blocks, bf16, seed++);
            foreach (var tokens in TokenCounts)
                AssertMatches(matrix, tokens, path, threads: 1 + (int)(tokens % 3));
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void DequantisedWeightsAreExactlyTheReferenceOnes(KernelPath path)
    {
        // x = I: token t reads column t alone, so y[t, r] = W[r, t] with no rounding at all.
        foreach (var matrix in new[] { TestInt8Matrix.Q8_0(37, 64, 1), TestInt8Matrix.RowScaled(37, 64, 2, true, 2), TestInt8Matrix.RowScaled(37, 64, 1, false, 3) })
        {
            using (matrix)
            {
                using var identity = eye(64, dtype: ScalarType.Float32);
                using var y = Int8MatMul.Multiply(matrix.Matrix, identity, new Int8KernelOptions { Path = path, Threads = 2 });
                using var expected = matrix.Dequantized.t();
                Assert.True(y.equal(expected).all().item<bool>(), $"{matrix.Matrix}: weights differ from the reference dequantisation");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void HugeScalesFallBackToIntegerRoundingAndStayExact(KernelPath path)
    {
        // |s| ≥ 2¹⁰⁰ would overflow the splitting constant s·(2¹⁶+1); such a matrix rounds in integer registers instead.
        const int rows = 8, columns = 64;
        var values = (sbyte*)System.Runtime.InteropServices.NativeMemory.Alloc(rows * columns);
        var scales = (float*)System.Runtime.InteropServices.NativeMemory.Alloc(rows * sizeof(float));
        try
        {
            new Random(5).NextBytes(new Span<byte>(values, rows * columns));
            for (int r = 0; r < rows; r++) scales[r] = BFloat16Rounding.Round(r == 3 ? MathF.ScaleB(1.3f, 110) : 0.01f * (r + 1));
            var w = Int8Matrix.RowScaled(values, scales, rows, columns, 1, roundToBFloat16: true);
            Assert.False(w.ScalesFitSplitting);
            Assert.True(w.RowRange(4, 4).ScalesFitSplitting == false, "a row range keeps its matrix's check");
            using var quantized = GrokLens.Tools.SyntheticInt8Matrix.QuantizedWeightOf(w);
            using var expected = quantized.Dequantize();
            using var identity = eye(columns);
            using var y = Int8MatMul.Multiply(w, identity, new Int8KernelOptions { Path = path });
            Assert.True(y.t().equal(expected).all().item<bool>());
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(values);
            System.Runtime.InteropServices.NativeMemory.Free(scales);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void PanelsOfInputsAddUpForLongPrefills(KernelPath path)
    {
        // 64 tokens × 4096 inputs is 1 MB of activations: the inputs are cut into two panels whose sums add up in y.
        using var matrix = TestInt8Matrix.Q8_0(9, 4096, 5);
        AssertMatches(matrix, 64, path, threads: 2);
    }

    [Fact]
    public void StridedRowsWriteOnlyTheirOwnElements()
    {
        using var matrix = TestInt8Matrix.Q8_0(6, 64, 7);
        using var x = randn(3, 80); // rows of 80, the matrix reads the first 64
        using var y = full(3, 10, float.NaN);
        using (var xs = x.narrow(1, 0, 64).contiguous())
        using (var expected = xs.matmul(matrix.Dequantized.t()))
        {
            fixed (byte* xp = x.bytes, yp = y.bytes)
                Int8MatMul.Multiply(matrix.Matrix, (float*)xp, 80, 3, (float*)yp + 2, 10);
            using var written = y.narrow(1, 2, 6);
            Assert.True(written.allclose(expected, rtol: 1e-5, atol: 1e-5));
        }
        using var untouched = cat([y.narrow(1, 0, 2), y.narrow(1, 8, 2)], 1);
        Assert.True(untouched.isnan().all().item<bool>());
    }

    [Fact]
    public void RowRangeIsOneExpertOfAStackedWeight()
    {
        using var stacked = TestInt8Matrix.RowScaled(3 * 8, 64, 8, true, 9); // 3 experts of 8 rows
        using var x = randn(2, 64);
        using var expert = Int8MatMul.Multiply(stacked.Matrix.RowRange(8, 8), x);
        using var all = Int8MatMul.Multiply(stacked.Matrix, x);
        Assert.True(expert.equal(all.narrow(1, 8, 8)).all().item<bool>());
    }

    [Fact]
    public void LeadingDimensionsAreTokens()
    {
        using var matrix = TestInt8Matrix.Q8_0(5, 32, 11);
        using var x = randn(2, 3, 32);
        using var y = Int8MatMul.Multiply(matrix.Matrix, x);
        Assert.Equal([2L, 3, 5], y.shape);
        using var flat = Int8MatMul.Multiply(matrix.Matrix, x.reshape(6, 32));
        Assert.True(y.reshape(6, 5).equal(flat).all().item<bool>());
    }

    [Fact]
    public void BadActivationsAreRefusedWithAClearMessage()
    {
        using var matrix = TestInt8Matrix.Q8_0(5, 32, 13);
        using var wrongWidth = randn(2, 33);
        Assert.Contains("last dimension", Assert.Throws<ArgumentException>(() => Int8MatMul.Multiply(matrix.Matrix, wrongWidth)).Message);
        using var doubles = randn(2, 32, dtype: ScalarType.Float64);
        Assert.Contains("float32", Assert.Throws<ArgumentException>(() => Int8MatMul.Multiply(matrix.Matrix, doubles)).Message);
        using var wide = randn(32, 2);
        using var transposed = wide.t();
        Assert.Contains("contiguous", Assert.Throws<ArgumentException>(() => Int8MatMul.Multiply(matrix.Matrix, transposed)).Message);
        using var x = randn(2, 32);
        using var y = empty(2, 6);
        Assert.Contains("outputs", Assert.Throws<ArgumentException>(() => Int8MatMul.Multiply(matrix.Matrix, x, y)).Message);
    }

    /// <summary>
    /// Kernel y against float64 math (|error| ≤ n·u·Σ|w·x|, the bound for any order of n float32 additions, u = 2⁻²⁴)
    /// and against torch's float32 matmul of the dequantised weight (twice that: both have rounding errors).
    /// </summary>
    private static void AssertMatches(TestInt8Matrix matrix, long tokens, KernelPath path, int threads)
    {
        var w = matrix.Matrix;
        using var scope = NewDisposeScope();
        var x = randn(tokens, w.Columns);
        var y = Int8MatMul.Multiply(w, x, new Int8KernelOptions { Path = path, Threads = threads });
        var weight = matrix.Dequantized;
        var exact = x.to_type(ScalarType.Float64).matmul(weight.to_type(ScalarType.Float64).t());
        var magnitude = x.abs().to_type(ScalarType.Float64).matmul(weight.abs().to_type(ScalarType.Float64).t());
        var torchResult = x.matmul(weight.t()).to_type(ScalarType.Float64);
        double u = Math.Pow(2, -24), bound = (w.Columns + 8) * u;
        var kernelError = (y.to_type(ScalarType.Float64) - exact).abs() - magnitude * bound;
        var torchError = (y.to_type(ScalarType.Float64) - torchResult).abs() - magnitude * (2 * bound);
        Assert.True(kernelError.max().item<double>() <= 0, $"{w} T={tokens} {path}: error above n·u·Σ|wx| vs float64");
        Assert.True(torchError.max().item<double>() <= 0, $"{w} T={tokens} {path}: error above 2n·u·Σ|wx| vs torch");
    }
}
