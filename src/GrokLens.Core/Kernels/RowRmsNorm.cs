using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Kernels;

/// <summary>
/// RMSNorm over the last dimension in C#, (x · rsqrt(mean(x²) + eps)) ⊙ g row by row (<see cref="Model.RmsNorm"/>): one
/// pass over a row instead of six torch calls, which on the bench model cost more than the arithmetic (four norms a
/// layer). Float32 throughout; the sum of squares is taken in another order than torch's mean, so results are within
/// float32 rounding of torch's. Every run, hooked or not, takes the same path, so capturing changes no number.
/// </summary>
public static unsafe class RowRmsNorm
{
    /// <summary>The norm of x [..., D] with scale g [D] when both are float32 CPU tensors and no gradient is recorded; else null.</summary>
    public static Tensor? TryApply(Tensor x, Tensor g, double eps)
    {
        if (is_grad_enabled() || x.dtype != ScalarType.Float32 || g.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU
            || g.device_type != DeviceType.CPU || g.dim() != 1 || x.dim() < 1 || x.shape[^1] != g.shape[0] || x.NumberOfElements == 0)
            return null;
        using var rows = x.contiguous();
        using var scale = g.contiguous();
        var output = empty(x.shape, dtype: ScalarType.Float32);
        int length = (int)g.shape[0];
        Apply(TensorMemory.Float32(rows, nameof(x)), TensorMemory.Float32(scale, nameof(g)), (float)eps, TensorMemory.Float32(output, "output"),
            x.NumberOfElements / length, length, KernelPaths.Best);
        GC.KeepAlive(rows);
        GC.KeepAlive(scale);
        return output;
    }

    public static void Apply(float* x, float* g, float eps, float* output, long rows, int length, KernelPath path)
    {
        for (long row = 0; row < rows; row++)
        {
            float* source = x + row * length, target = output + row * length;
            float inverseRms = 1f / MathF.Sqrt(SumOfSquares(source, length, path) / length + eps);
            int i = 0;
            if (path >= KernelPath.Vector256)
            {
                var factor = Vector256.Create(inverseRms);
                for (; i + 8 <= length; i += 8) (Vector256.Load(source + i) * factor * Vector256.Load(g + i)).Store(target + i);
            }
            for (; i < length; i++) target[i] = source[i] * inverseRms * g[i];
        }
    }

    private static float SumOfSquares(float* x, int length, KernelPath path)
    {
        int i = 0;
        float sum = 0;
        if (path >= KernelPath.Vector256 && length >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= length; i += 8)
            {
                var v = Vector256.Load(x + i);
                acc += v * v;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < length; i++) sum += x[i] * x[i];
        return sum;
    }
}
