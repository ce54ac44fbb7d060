using GrokLens.Kernels;
using GrokLens.Model;

namespace GrokLens.Tests.Kernels;

/// <summary>The rotary embedding in C# on every instruction set: torch's float32 result to the bit, and float64 within rounding.</summary>
public unsafe class RowRotaryTests
{
    public static TheoryData<KernelPath, int> PathsAndHeadDims()
    {
        var data = new TheoryData<KernelPath, int>();
        foreach (var path in KernelPaths.Supported)
            foreach (var headDim in new[] { 2, 10, 16, 32, 128 }) data.Add(path, headDim);
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndHeadDims))]
    public void EqualsTorchsFloat32Operations(KernelPath path, int headDim)
    {
        using var scope = NewDisposeScope();
        const int batch = 2, length = 5, heads = 3;
        var x = randn(batch, length, heads, headDim);
        var (cos, sin) = new RotaryEmbedding(headDim, 10000).Tables(3, length, CPU);
        var y = full(batch, length, heads, headDim, float.NaN);
        fixed (byte* xp = x.bytes, cp = cos.bytes, sp = sin.bytes, yp = y.bytes)
            RowRotary.Apply((float*)xp, (float*)cp, (float*)sp, (float*)yp, batch, length, heads, headDim, path);

        long half = headDim / 2;
        var (c, s) = (cos.unsqueeze(1), sin.unsqueeze(1));
        var (first, second) = (x.narrow(-1, 0, half), x.narrow(-1, half, half));
        var torchs = cat([first * c - second * s, second * c + first * s], -1);
        Assert.True(y.equal(torchs).all().item<bool>(), $"{path}, head dim {headDim}: differs from torch's float32 operations");

        var (c64, s64, f64, z64) = (c.to_type(ScalarType.Float64), s.to_type(ScalarType.Float64), first.to_type(ScalarType.Float64), second.to_type(ScalarType.Float64));
        var exact = cat([f64 * c64 - z64 * s64, z64 * c64 + f64 * s64], -1);
        Assert.True((y.to_type(ScalarType.Float64) - exact).abs().max().item<double>() < 1e-5);
    }

    [Fact]
    public void DeclinesWhatItCannotRun()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (cos, sin) = new RotaryEmbedding(8, 10000).Tables(0, 4, CPU);
        Assert.NotNull(RowRotary.TryApply(randn(1, 4, 2, 8), cos, sin));
        Assert.Null(RowRotary.TryApply(randn(1, 5, 2, 8), cos, sin)); // positions and tables disagree
        Assert.Null(RowRotary.TryApply(randn(1, 4, 2, 8).to_type(ScalarType.Float64), cos, sin));
        using (enable_grad()) Assert.Null(RowRotary.TryApply(randn(1, 4, 2, 8), cos, sin));
    }
}
