using static TorchSharp.torch;

namespace GrokLens.Tests.Kernels;

/// <summary>
/// How close the int8 kernels' runs must be to dequantise-then-run: they form the same float32 weights but sum the
/// products in another order, so results differ by float32 rounding, relative to the tensor's largest value
/// (docs/int8-kernels.md gives the measured distances).
/// </summary>
internal static class KernelTolerance
{
    public const double Relative = 1e-5;

    /// <summary>max |actual − expected| / max |expected|.</summary>
    public static double Distance(Tensor expected, Tensor actual)
    {
        using var scope = NewDisposeScope();
        double scale = expected.abs().max().item<float>();
        return (actual - expected).abs().max().item<float>() / Math.Max(scale, float.Epsilon);
    }

    public static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        if (!expected.is_floating_point())
        {
            Assert.True(expected.equal(actual).all().item<bool>(), $"{what} differs");
            return;
        }
        double distance = Distance(expected, actual);
        Assert.True(distance <= Relative, $"{what}: the int8 kernels' result is {distance:E2} (relative to the largest value) from dequantise-then-run");
    }
}
