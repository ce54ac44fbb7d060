using System.Runtime.Intrinsics;

namespace GrokLens.Kernels;

/// <summary>
/// gate ← gelu_tanh(gate) ⊙ up over a span of floats, vectorised (<see cref="Model.Gelu.Tanh"/>: 0.5·x·(1 + tanh(u)),
/// u = √(2/π)·(x + 0.044715·x³)). The vector paths take tanh(u) = 1 − 2/(e^{2u} + 1) with the runtime's vector exp, which
/// saturates to ±1 where e^{2u} overflows or vanishes; its error (≈ 1e-7 absolute) is within float32 rounding of torch's
/// gelu at the activations' scale. A span's last partial vector goes through the same vector code (padded), so each
/// value's result does not depend on where a span starts or ends. The scalar path uses MathF.Tanh.
/// </summary>
public static unsafe class VectorGelu
{
    private const float SqrtTwoOverPi = 0.7978845608028654f, Cubic = 0.044715f;

    public static void GeluTimes(float* gate, float* up, long length, KernelPath path)
    {
        int width = path switch { KernelPath.Vector512 => 16, KernelPath.Vector256 => 8, _ => 1 };
        if (width == 1)
        {
            for (long i = 0; i < length; i++)
            {
                float x = gate[i];
                gate[i] = 0.5f * x * (1f + MathF.Tanh(SqrtTwoOverPi * (x + Cubic * x * x * x))) * up[i];
            }
            return;
        }
        long whole = length / width * width;
        for (long i = 0; i < whole; i += width) Vectors(gate + i, up + i, width);
        int rest = (int)(length - whole);
        if (rest == 0) return;
        float* paddedGate = stackalloc float[16], paddedUp = stackalloc float[16];
        new Span<float>(gate + whole, rest).CopyTo(new Span<float>(paddedGate, 16));
        new Span<float>(up + whole, rest).CopyTo(new Span<float>(paddedUp, 16));
        Vectors(paddedGate, paddedUp, width);
        new Span<float>(paddedGate, rest).CopyTo(new Span<float>(gate + whole, rest));
    }

    /// <summary>One vector of <paramref name="width"/> floats (16: AVX-512, 8: AVX2).</summary>
    private static void Vectors(float* gate, float* up, int width)
    {
        if (width == 16)
        {
            var x = Vector512.Load(gate);
            var u = Vector512.Create(SqrtTwoOverPi) * (x + Vector512.Create(Cubic) * x * x * x);
            var tanh = Vector512<float>.One - Vector512.Create(2f) / (Vector512.Exp(u + u) + Vector512<float>.One);
            (Vector512.Create(0.5f) * x * (Vector512<float>.One + tanh) * Vector512.Load(up)).Store(gate);
        }
        else
        {
            var x = Vector256.Load(gate);
            var u = Vector256.Create(SqrtTwoOverPi) * (x + Vector256.Create(Cubic) * x * x * x);
            var tanh = Vector256<float>.One - Vector256.Create(2f) / (Vector256.Exp(u + u) + Vector256<float>.One);
            (Vector256.Create(0.5f) * x * (Vector256<float>.One + tanh) * Vector256.Load(up)).Store(gate);
        }
    }
}
