using GrokLens.Kernels;

namespace GrokLens.Tests.Kernels;

/// <summary>
/// The prefill's matrix product Y = X·Wᵀ against float64 math on every instruction set this CPU runs, on shapes that hit
/// every edge: rows of X left over after tiles of 4 (or 2), rows of W after tiles of 4, columns after whole vectors, and
/// products large enough to be shared with helper threads.
/// </summary>
public unsafe class FloatGemmTests
{
    private static readonly (int M, int N, int K, int Threads)[] Shapes =
    [
        (1, 1, 1, 1), (3, 5, 7, 1), (4, 4, 16, 1), (5, 7, 17, 1), (33, 50, 40, 2), (8, 12, 300, 1),
        (37, 512, 256, 2), // 4.8 M multiply-adds: chunks of W's rows shared with a helper
        (130, 260, 72, 3),
    ];

    public static TheoryData<int, int, int, int, KernelPath> ShapesOnEveryPath()
    {
        var data = new TheoryData<int, int, int, int, KernelPath>();
        foreach (var path in KernelPaths.Supported)
            foreach (var (m, n, k, threads) in Shapes) data.Add(m, n, k, threads, path);
        return data;
    }

    [Theory]
    [MemberData(nameof(ShapesOnEveryPath))]
    public void MatchesFloat64(int m, int n, int k, int threads, KernelPath path)
    {
        using var scope = NewDisposeScope();
        var x = randn(m, k);
        var w = randn(n, k);
        var y = full(m, n, float.NaN);
        fixed (byte* xp = x.bytes, wp = w.bytes, yp = y.bytes)
            FloatGemm.Multiply((float*)xp, m, (float*)wp, n, k, (float*)yp, threads, path);
        var expected = x.to_type(ScalarType.Float64).matmul(w.to_type(ScalarType.Float64).t());
        double distance = (y.to_type(ScalarType.Float64) - expected).abs().max().item<double>();
        Assert.True(distance <= 1e-5 * Math.Sqrt(k), $"{m}×{k} · ({n}×{k})ᵀ, {threads} threads, {path}: {distance:E2} from float64");
    }

    [Fact]
    public void EachOutputIsTheSameWhateverTheThreadsAndBlocks()
    {
        // The experts' C# prefill cuts a product into other blocks than a whole product does; a value must not change.
        using var scope = NewDisposeScope();
        var x = randn(37, 256);
        var w = randn(512, 256);
        var whole = zeros(37, 512);
        var blocks = zeros(37, 512);
        fixed (byte* xp = x.bytes, wp = w.bytes, ap = whole.bytes, bp = blocks.bytes)
        {
            FloatGemm.Multiply((float*)xp, 37, (float*)wp, 512, 256, (float*)ap, 1, KernelPaths.Best);
            for (long from = 0; from < 512; from += 128)
                FloatGemm.Block((float*)xp, 37, (float*)wp, 512, 256, (float*)bp, from, from + 128, KernelPaths.Best);
        }
        Assert.True(whole.equal(blocks).all().item<bool>());
    }

    [Fact]
    public void LinearKeepsLeadingDimensionsAndDeclinesWhatItCannotRun()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(2, 3, 24);
        var w = randn(10, 24);
        var y = FloatGemm.TryLinear(x, w);
        Assert.NotNull(y);
        Assert.Equal([2L, 3, 10], y!.shape);
        var expected = nn.functional.linear(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64));
        Assert.True((y.to_type(ScalarType.Float64) - expected).abs().max().item<double>() < 1e-4);
        Assert.Null(FloatGemm.TryLinear(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64)));
        Assert.Null(FloatGemm.TryLinear(randn(3, 25), w));
        Assert.Null(FloatGemm.TryLinear(x, w.t())); // not contiguous
        using (enable_grad()) Assert.Null(FloatGemm.TryLinear(x, w));
    }
}
