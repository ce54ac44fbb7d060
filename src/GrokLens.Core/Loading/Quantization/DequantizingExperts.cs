using GrokLens.Checkpoints;
using GrokLens.Model;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Loading.Quantization;

/// <summary>
/// Stacked int8 expert matrices [E, out, in]: each chosen expert is dequantised alone just before its product and freed
/// right after, so experts no token chose are never dequantised.
/// </summary>
public sealed class DequantizingExperts(QuantizedWeight stacked) : IExpertMatrices
{
    public int Count => (int)stacked.Shape[0];
    public long Rows => stacked.Shape[1];
    public long Columns => stacked.Shape[2];

    public Tensor Multiply(int expert, Tensor rows)
    {
        using var dense = stacked.Dequantize(expert);
        return linear(rows, dense);
    }

    public Tensor ToFloat32(int expert) => stacked.Dequantize(expert);
}
