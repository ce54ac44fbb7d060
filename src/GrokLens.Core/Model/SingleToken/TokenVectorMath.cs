using System.Runtime.Intrinsics;
using GrokLens.Kernels;

namespace GrokLens.Model.SingleToken;

/// <summary>
/// The elementwise parts of a decode step on one token's float32 vectors, each written as the general path's torch ops
/// compute it (same operations in the same order, float32 throughout), so the two paths agree within float32 rounding.
/// </summary>
internal static unsafe class TokenVectorMath
{
    /// <summary>cap·tanh(x/cap) in place (the attention, router and final soft-caps); nothing when cap is 0.</summary>
    public static void SoftCap(float* x, int length, float cap)
    {
        if (cap <= 0) return;
        for (int i = 0; i < length; i++) x[i] = MathF.Tanh(x[i] / cap) * cap;
    }

    /// <summary>x ← exp(x − max)/Σ exp(x − max) in place.</summary>
    public static void Softmax(float* x, int length)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < length; i++) max = MathF.Max(max, x[i]);
        float sum = 0;
        for (int i = 0; i < length; i++) sum += x[i] = MathF.Exp(x[i] - max);
        float inverse = 1f / sum;
        for (int i = 0; i < length; i++) x[i] *= inverse;
    }

    /// <summary>x ← x · factor in place.</summary>
    public static void Scale(float* x, int length, float factor)
    {
        for (int i = 0; i < length; i++) x[i] *= factor;
    }

    /// <summary>x ← x + factor·y in place (vectorised: it runs once per head and cached position).</summary>
    public static void AddScaled(float* x, float* y, float factor, int length) => AddScaled(x, y, factor, length, KernelPaths.Best);

    /// <summary><see cref="AddScaled(float*, float*, float, int)"/> on the given instruction set (tests run each).</summary>
    public static void AddScaled(float* x, float* y, float factor, int length, KernelPath path)
    {
        int i = 0;
        if (path >= KernelPath.Vector256)
        {
            var f = Vector256.Create(factor);
            for (; i + 8 <= length; i += 8) Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(y + i), f, Vector256.Load(x + i)), x + i);
        }
        for (; i < length; i++) x[i] += factor * y[i];
    }

    /// <summary>x ← x + y in place.</summary>
    public static void Add(float* x, float* y, int length)
    {
        for (int i = 0; i < length; i++) x[i] += y[i];
    }
}
