using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GrokLens.Kernels;

/// <summary>
/// How a row-scaled kernel turns float(q) into the weight. Each scale s gives two per-row constants a and b (made once
/// per block of inputs, not per element); <c>Apply</c> forms the weight from q, a and b.
/// </summary>
internal interface IScaleRule
{
    static abstract float A(float s);
    static abstract float B(float s);
    static abstract float Apply(float q, float a, float b);
    static abstract Vector256<float> Apply(Vector256<float> q, Vector256<float> a, Vector256<float> b);
    static abstract Vector512<float> Apply(Vector512<float> q, Vector512<float> a, Vector512<float> b);
}

/// <summary>W = q·s in float32.</summary>
internal struct PlainScale : IScaleRule
{
    public static float A(float s) => s;
    public static float B(float s) => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float q, float a, float b) => q * a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> q, Vector256<float> a, Vector256<float> b) => Avx.Multiply(q, a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply(Vector512<float> q, Vector512<float> a, Vector512<float> b) => Avx512F.Multiply(q, a);
}

/// <summary>
/// W = bf16(q·s), xAI's dequantisation (SPEC §4.3), by splitting: with a = s·(2¹⁶+1) and b = −s·2¹⁶ (both exact for a
/// bfloat16 s), c = RN(q·a) rounds q·s·(2¹⁶+1), and fma(q, b, c) = RN(c − q·s·2¹⁶) leaves q·s rounded to its 8 leading
/// bits, to nearest even — a multiply and an FMA per 16 weights. Exact (checked for every int8 q and bfloat16 s) when
/// |s| &lt; 2¹⁰⁴, where a does not overflow; <see cref="Int8Matrix.ScalesFitSplitting"/> says whether a matrix
/// qualifies, else <see cref="BFloat16Scale"/> is used.
/// </summary>
internal struct SplitBFloat16Scale : IScaleRule
{
    public static readonly float Limit = MathF.ScaleB(1f, 100);

    public static float A(float s) => s * 65537f;
    public static float B(float s) => s * -65536f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float q, float a, float b) => MathF.FusedMultiplyAdd(q, b, q * a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> q, Vector256<float> a, Vector256<float> b) => Fma.MultiplyAdd(q, b, Avx.Multiply(q, a));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply(Vector512<float> q, Vector512<float> a, Vector512<float> b) =>
        Avx512F.FusedMultiplyAdd(q, b, Avx512F.Multiply(q, a));
}

/// <summary>
/// W = bf16(q·s) for any scale: q·s is exact in float32 (8 × 8 significant bits), and rounding its bits to the nearest
/// even bfloat16 (add 0x7FFF plus the lowest kept bit, clear the low 16 bits) reproduces JAX bit for bit. Five integer
/// operations per 16 weights after the multiply.
/// </summary>
internal struct BFloat16Scale : IScaleRule
{
    public static float A(float s) => s;
    public static float B(float s) => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float q, float a, float b) => BFloat16Rounding.Round(q * a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> q, Vector256<float> a, Vector256<float> b)
    {
        var bits = Avx.Multiply(q, a).AsUInt32();
        var lowestKept = Avx2.And(Avx2.ShiftRightLogical(bits, 16), Vector256.Create(1u));
        var rounded = Avx2.Add(Avx2.Add(bits, Vector256.Create(0x7FFFu)), lowestKept);
        return Avx2.And(rounded, Vector256.Create(0xFFFF0000u)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply(Vector512<float> q, Vector512<float> a, Vector512<float> b)
    {
        var bits = Avx512F.Multiply(q, a).AsUInt32();
        var lowestKept = Avx512F.And(Avx512F.ShiftRightLogical(bits, 16), Vector512.Create(1u));
        var rounded = Avx512F.Add(Avx512F.Add(bits, Vector512.Create(0x7FFFu)), lowestKept);
        return Avx512F.And(rounded, Vector512.Create(0xFFFF0000u)).AsSingle();
    }
}
