using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Kernels;

/// <summary>
/// The half-split rotary embedding (<see cref="Model.RotaryEmbedding.Apply"/>) in C#: out[j] = x[j]·cos − x[j+h]·sin,
/// out[j+h] = x[j+h]·cos + x[j]·sin for each head of each position, one pass instead of seven torch calls. Each value
/// takes the same float32 operations in the same order as torch's (two products, rounded, then their difference or sum;
/// no fused multiply-add), so the results are torch's to the bit.
/// </summary>
public static unsafe class RowRotary
{
    /// <summary>x [B, T, H, d] rotated by cos and sin [T, d/2] when all are float32 CPU tensors and no gradient is recorded; else null.</summary>
    public static Tensor? TryApply(Tensor x, Tensor cos, Tensor sin)
    {
        if (is_grad_enabled() || x.dim() != 4 || x.dtype != ScalarType.Float32 || cos.dtype != ScalarType.Float32 || sin.dtype != ScalarType.Float32
            || x.device_type != DeviceType.CPU || cos.device_type != DeviceType.CPU || sin.device_type != DeviceType.CPU
            || x.shape[^1] % 2 != 0 || cos.dim() != 2 || cos.shape[0] != x.shape[1] || cos.shape[1] * 2 != x.shape[^1]
            || !cos.shape.SequenceEqual(sin.shape) || x.NumberOfElements == 0)
            return null;
        using var source = x.contiguous();
        using var c = cos.contiguous();
        using var s = sin.contiguous();
        var output = empty(x.shape, dtype: ScalarType.Float32);
        Apply(TensorMemory.Float32(source, nameof(x)), TensorMemory.Float32(c, nameof(cos)), TensorMemory.Float32(s, nameof(sin)),
            TensorMemory.Float32(output, "output"), x.shape[0], x.shape[1], (int)x.shape[2], (int)x.shape[3], KernelPaths.Best);
        GC.KeepAlive(source);
        GC.KeepAlive(c);
        GC.KeepAlive(s);
        return output;
    }

    /// <summary>Rotates x [batch, length, heads, headDim] into output (which may be x: each pair is read before it is written).</summary>
    public static void Apply(float* x, float* cos, float* sin, float* output, long batch, long length, int heads, int headDim, KernelPath path)
    {
        int half = headDim / 2;
        for (long b = 0; b < batch; b++)
            for (long t = 0; t < length; t++)
            {
                float* c = cos + t * half, s = sin + t * half;
                for (int head = 0; head < heads; head++)
                {
                    long offset = ((b * length + t) * heads + head) * headDim;
                    float* first = x + offset, second = first + half, outFirst = output + offset, outSecond = outFirst + half;
                    int j = 0;
                    if (path >= KernelPath.Vector256)
                        for (; j + 8 <= half; j += 8)
                        {
                            Vector256<float> a = Vector256.Load(first + j), z = Vector256.Load(second + j);
                            Vector256<float> cj = Vector256.Load(c + j), sj = Vector256.Load(s + j);
                            (a * cj - z * sj).Store(outFirst + j);
                            (z * cj + a * sj).Store(outSecond + j);
                        }
                    for (; j < half; j++)
                    {
                        float a = first[j], z = second[j];
                        outFirst[j] = a * c[j] - z * s[j];
                        outSecond[j] = z * c[j] + a * s[j];
                    }
                }
            }
    }
}
