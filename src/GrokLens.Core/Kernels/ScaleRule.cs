using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GrokLens.Kernels;

/// <summary>How a row-scaled kernel turns float(q) and its scale s into the weight, per element.</summary>
internal interface IScaleRule
{
    static abstract float Apply(float q, float s);
    static abstract Vector256<float> Apply(Vector256<float> q, Vector256<float> s);
    static abstract Vector512<float> Apply(Vector512<float> q, Vector512<float> s);
}

/// <summary>W = q·s in float32.</summary>
internal struct PlainScale : IScaleRule
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float q, float s) => q * s;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> q, Vector256<float> s) => Avx.Multiply(q, s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply(Vector512<float> q, Vector512<float> s) => Avx512F.Multiply(q, s);
}

/// <summary>
/// W = bf16(q·s), xAI's dequantisation (SPEC §4.3). q·s is exact in float32 (8 × 8 significant bits), so rounding its
/// bits to the nearest even bfloat16 (add 0x7FFF plus the kept lowest bit, clear the low 16 bits) reproduces JAX bit
/// for bit, for every scale.
/// </summary>
internal struct BFloat16Scale : IScaleRule
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float q, float s) => BFloat16Rounding.Round(q * s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> q, Vector256<float> s)
    {
        var bits = Avx.Multiply(q, s).AsUInt32();
        var lowestKept = Avx2.And(Avx2.ShiftRightLogical(bits, 16), Vector256.Create(1u));
        var rounded = Avx2.Add(Avx2.Add(bits, Vector256.Create(0x7FFFu)), lowestKept);
        return Avx2.And(rounded, Vector256.Create(0xFFFF0000u)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply(Vector512<float> q, Vector512<float> s)
    {
        var bits = Avx512F.Multiply(q, s).AsUInt32();
        var lowestKept = Avx512F.And(Avx512F.ShiftRightLogical(bits, 16), Vector512.Create(1u));
        var rounded = Avx512F.Add(Avx512F.Add(bits, Vector512.Create(0x7FFFu)), lowestKept);
        return Avx512F.And(rounded, Vector512.Create(0xFFFF0000u)).AsSingle();
    }
}

/// <summary>
/// The same bf16(q·s) by Veltkamp splitting: c = p·(2¹⁶+1), hi = c − (c − p) keeps the top 8 significant bits of p
/// rounded to nearest even (checked for every bfloat16 scale and int8 value with 2⁻⁹⁶ ≤ |s| ≤ 2⁹⁶). Three float
/// operations instead of five integer ones.
/// </summary>
internal struct VeltkampBFloat16Scale : IScaleRule
{
    private const float Splitter = 65537f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float q, float s)
    {
        float p = q * s, c = p * Splitter;
        return c - (c - p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> q, Vector256<float> s)
    {
        var p = Avx.Multiply(q, s);
        var c = Avx.Multiply(p, Vector256.Create(Splitter));
        return Avx.Subtract(c, Avx.Subtract(c, p));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply(Vector512<float> q, Vector512<float> s)
    {
        var p = Avx512F.Multiply(q, s);
        var c = Avx512F.Multiply(p, Vector512.Create(Splitter));
        return Avx512F.Subtract(c, Avx512F.Subtract(c, p));
    }
}
