using GrokLens.Kernels;

namespace GrokLens.Tests.Kernels;

/// <summary>RMSNorm in C# on every instruction set against float64, on widths with and without a partial vector.</summary>
public unsafe class RowRmsNormTests
{
    public static TheoryData<KernelPath, int> PathsAndWidths()
    {
        var data = new TheoryData<KernelPath, int>();
        foreach (var path in KernelPaths.Supported)
            foreach (var width in new[] { 1, 7, 8, 40, 256 }) data.Add(path, width);
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndWidths))]
    public void MatchesFloat64(KernelPath path, int width)
    {
        using var scope = NewDisposeScope();
        var x = randn(5, width) * 3;
        var g = 1 + 0.1 * randn(width);
        var y = full(5, width, float.NaN);
        fixed (byte* xp = x.bytes, gp = g.bytes, yp = y.bytes) RowRmsNorm.Apply((float*)xp, (float*)gp, 1e-5f, (float*)yp, 5, width, path);
        var x64 = x.to_type(ScalarType.Float64);
        var expected = x64 * (x64.square().mean([-1], keepdim: true) + 1e-5).rsqrt() * g.to_type(ScalarType.Float64);
        double distance = (y.to_type(ScalarType.Float64) - expected).abs().max().item<double>();
        Assert.True(distance <= 1e-5 * expected.abs().max().item<double>(), $"{path}, width {width}: {distance:E2}");
    }

    [Fact]
    public void TheTensorFormKeepsTheShapeAndDeclinesWhatItCannotRun()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(2, 3, 16);
        var g = randn(16);
        var y = RowRmsNorm.TryApply(x, g, 1e-5);
        Assert.NotNull(y);
        Assert.Equal(x.shape, y!.shape);
        var torchs = x * (x.square().mean([-1], keepdim: true) + 1e-5).rsqrt() * g;
        Assert.True((y - torchs).abs().max().item<float>() < 1e-5f);
        Assert.Null(RowRmsNorm.TryApply(x, randn(15), 1e-5));
        Assert.Null(RowRmsNorm.TryApply(x.to_type(ScalarType.Float64), g, 1e-5));
        using (enable_grad()) Assert.Null(RowRmsNorm.TryApply(x, g, 1e-5));
    }
}
