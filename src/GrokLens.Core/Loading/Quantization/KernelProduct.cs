using GrokLens.Kernels;
using static TorchSharp.torch;

namespace GrokLens.Loading.Quantization;

/// <summary>x·Wᵀ by the kernels for any float32 CPU x [..., in] (made contiguous if needed; no rows gives no rows).</summary>
internal static class KernelProduct
{
    public static Tensor Of(in Int8Matrix weight, Tensor x)
    {
        if (x.NumberOfElements == 0) return empty(x.shape[..^1].Append(weight.Rows).ToArray(), dtype: ScalarType.Float32, device: x.device);
        if (x.is_contiguous()) return Int8MatMul.Multiply(weight, x);
        using var contiguous = x.contiguous();
        return Int8MatMul.Multiply(weight, contiguous);
    }
}
