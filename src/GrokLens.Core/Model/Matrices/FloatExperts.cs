using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Model;

/// <summary>Expert matrices held as one float32 tensor [E, out, in].</summary>
public sealed class FloatExperts(Tensor stacked) : IExpertMatrices
{
    public int Count => (int)stacked.shape[0];
    public long Rows => stacked.shape[1];
    public long Columns => stacked.shape[2];

    public Tensor Multiply(int expert, Tensor rows)
    {
        using var weight = stacked[expert];
        return linear(rows, weight);
    }

    public Tensor ToFloat32(int expert) => stacked[expert];
}
