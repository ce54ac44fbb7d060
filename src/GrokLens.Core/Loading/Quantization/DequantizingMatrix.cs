using GrokLens.Checkpoints;
using GrokLens.Model;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Loading.Quantization;

/// <summary>An int8 matrix dequantised to float32 just before each product and freed right after.</summary>
public sealed class DequantizingMatrix(QuantizedWeight weight) : IMatrix
{
    public long Rows => weight.Shape[^2];
    public long Columns => weight.Shape[^1];

    public Tensor Multiply(Tensor x)
    {
        using var dense = weight.Dequantize();
        return linear(x, dense);
    }

    public Tensor ToFloat32() => weight.Dequantize();
}
