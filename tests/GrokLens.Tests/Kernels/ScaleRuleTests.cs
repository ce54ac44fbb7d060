using System.Runtime.Intrinsics;
using GrokLens.Kernels;

namespace GrokLens.Tests.Kernels;

/// <summary>bf16(q·s) in registers, for every int8 q and every finite bfloat16 scale s, against torch's float32 → bfloat16 rounding.</summary>
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
            for (int k = 0; k < 16; k++) scalar[at + k] = BFloat16Scale.Apply(q[i + k], scales[s]);
            if (KernelPaths.IsSupported(KernelPath.Vector256))
            {
                BFloat16Scale.Apply(Vector256.Create(q, i), Vector256.Create(scales[s])).CopyTo(v256, at);
                BFloat16Scale.Apply(Vector256.Create(q, i + 8), Vector256.Create(scales[s])).CopyTo(v256, at + 8);
            }
            if (KernelPaths.IsSupported(KernelPath.Vector512))
                BFloat16Scale.Apply(Vector512.Create(q, i), Vector512.Create(scales[s])).CopyTo(v512, at);
        }
        AssertBitwiseEqual(expected, scalar, "scalar");
        if (KernelPaths.IsSupported(KernelPath.Vector256)) AssertBitwiseEqual(expected, v256, "Vector256");
        if (KernelPaths.IsSupported(KernelPath.Vector512)) AssertBitwiseEqual(expected, v512, "Vector512");
    }

    [Fact]
    public void VeltkampSplittingIsExactForScalesBetween2ToTheMinus96And2To96()
    {
        int checkedScales = 0;
        for (int bits = 0; bits < 65536; bits++)
        {
            float s = BFloat16Rounding.FromBits((ushort)bits), magnitude = Math.Abs(s);
            if (magnitude < MathF.Pow(2, -96) || magnitude > MathF.Pow(2, 96)) continue;
            checkedScales++;
            for (int q = -128; q < 128; q++)
            {
                var expected = BFloat16Rounding.Round(q * s);
                var actual = VeltkampBFloat16Scale.Apply(Vector512.Create((float)q), Vector512.Create(s)).GetElement(0);
                if (BitConverter.SingleToUInt32Bits(expected) != BitConverter.SingleToUInt32Bits(actual))
                    Assert.Fail($"q={q} s={s:R}: Veltkamp gives {actual:R}, expected {expected:R}");
            }
        }
        Assert.True(checkedScales > 49000);
    }

    private static void AssertBitwiseEqual(float[] expected, float[] actual, string path)
    {
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
                Assert.Fail($"{path}: element {i} is {actual[i]:R}, torch rounds to {expected[i]:R}");
    }
}
