using System.Runtime.Intrinsics;
using GrokLens.Kernels;

namespace GrokLens.Model.SingleToken;

/// <summary>
/// The elementwise parts of a decode step on one token's float32 vectors, each written as the general path's torch ops
/// compute it (same operations in the same order, float32 throughout), so the two paths agree within float32 rounding.
/// </summary>
internal static unsafe class TokenVectorMath
{
    /// <summary>out = (x · rsqrt(mean(x²) + eps)) ⊙ g (<see cref="RmsNorm.Forward"/>).</summary>
    public static void RmsNorm(float* x, float* g, float eps, float* output, int length)
    {
        float sumOfSquares = 0;
        for (int i = 0; i < length; i++) sumOfSquares += x[i] * x[i];
        float inverseRms = 1f / MathF.Sqrt(sumOfSquares / length + eps);
        for (int i = 0; i < length; i++) output[i] = x[i] * inverseRms * g[i];
    }

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

    /// <summary>
    /// Half-split RoPE of <paramref name="heads"/> vectors of <paramref name="headDim"/> in place
    /// (<see cref="RotaryEmbedding.Apply"/>): first·cos − second·sin, second·cos + first·sin.
    /// </summary>
    public static void Rotate(float* x, int heads, int headDim, float* cos, float* sin)
    {
        int half = headDim / 2;
        for (int head = 0; head < heads; head++)
        {
            float* first = x + head * headDim, second = first + half;
            for (int j = 0; j < half; j++)
            {
                float a = first[j], b = second[j];
                first[j] = a * cos[j] - b * sin[j];
                second[j] = b * cos[j] + a * sin[j];
            }
        }
    }
}
