using System.Runtime.Intrinsics;
using GrokLens.Kernels;

namespace GrokLens.Tests.Kernels;

/// <summary>bf16(q·s) in registers, for every int8 q and every finite bfloat16 scale s, against torch's float32 → bfloat16 rounding.</summary>
[Collection(LargeTorchOpsCollection.Name)]
public class ScaleRuleTests
{
    [Fact]
    public void BFloat16RoundingMatchesTorchForEveryInt8AndScale()
    {
        var q = Enumerable.Range(-128, 256).Select(v => (float)v).ToArray();
        var scales = Enumerable.Range(0, 65536).Select(b => BFloat16Rounding.FromBits((ushort)b)).Where(float.IsFinite).ToArray();
        var products = new float[scales.Length * 256];
        for (int s = 0; s < scales.Length; s++)
            for (int i = 0; i < 256; i++) products[s * 256 + i] = q[i] * scales[s];
        using var exact = tensor(products);
        using var rounded = exact.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32);
        var expected = rounded.data<float>().ToArray();

        var scalar = new float[products.Length];
        var v256 = new float[products.Length];
        var v512 = new float[products.Length];
        for (int s = 0; s < scales.Length; s++)
        for (int i = 0; i < 256; i += 16)
        {
            int at = s * 256 + i;
            for (int k = 0; k < 16; k++) scalar[at + k] = BFloat16Scale.Apply(q[i + k], scales[s], 0);
            if (KernelPaths.IsSupported(KernelPath.Vector256))
            {
                BFloat16Scale.Apply(Vector256.Create(q, i), Vector256.Create(scales[s]), default).CopyTo(v256, at);
                BFloat16Scale.Apply(Vector256.Create(q, i + 8), Vector256.Create(scales[s]), default).CopyTo(v256, at + 8);
            }
            if (KernelPaths.IsSupported(KernelPath.Vector512))
                BFloat16Scale.Apply(Vector512.Create(q, i), Vector512.Create(scales[s]), default).CopyTo(v512, at);
        }
        AssertBitwiseEqual(expected, scalar, "scalar");
        if (KernelPaths.IsSupported(KernelPath.Vector256)) AssertBitwiseEqual(expected, v256, "Vector256");
        if (KernelPaths.IsSupported(KernelPath.Vector512)) AssertBitwiseEqual(expected, v512, "Vector512");
    }

    [Fact]
    public void SplittingIsExactForScalesBelow2To100()
    {
        var q = Enumerable.Range(-128, 256).Select(v => (float)v).ToArray();
        int checkedScales = 0;
        for (int bits = 0; bits < 65536; bits++)
        {
            float s = BFloat16Rounding.FromBits((ushort)bits);
            if (!(Math.Abs(s) < SplitBFloat16Scale.Limit)) continue;
            checkedScales++;
            float a = SplitBFloat16Scale.A(s), b = SplitBFloat16Scale.B(s);
            for (int i = 0; i < 256; i += 16)
            {
                var v512 = SplitBFloat16Scale.Apply(Vector512.Create(q, i), Vector512.Create(a), Vector512.Create(b));
                var v256 = SplitBFloat16Scale.Apply(Vector256.Create(q, i), Vector256.Create(a), Vector256.Create(b));
                for (int k = 0; k < 16; k++)
                {
                    // Equal as numbers: for q = 0 splitting may give +0 where rounding gives −0, which adds nothing either way.
                    float expected = BFloat16Rounding.Round(q[i + k] * s);
                    bool same = expected == SplitBFloat16Scale.Apply(q[i + k], a, b)
                                && (!KernelPaths.IsSupported(KernelPath.Vector512) || expected == v512.GetElement(k))
                                && (!KernelPaths.IsSupported(KernelPath.Vector256) || k >= 8 || expected == v256.GetElement(k));
                    if (!same) Assert.Fail($"q={q[i + k]} s={s:R}: splitting differs from bf16 rounding");
                }
            }
        }
        Assert.True(checkedScales > 55000); // all finite bfloat16 values but the 28 binades from 2¹⁰⁰ up
    }

    private static void AssertBitwiseEqual(float[] expected, float[] actual, string path)
    {
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
                Assert.Fail($"{path}: element {i} is {actual[i]:R}, torch rounds to {expected[i]:R}");
    }
}
