using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Model;

/// <summary>A float32 matrix held as a tensor (a parameter, so gradients flow through it in training).</summary>
public sealed class FloatMatrix(Tensor weight) : IMatrix
{
    public long Rows => weight.shape[0];
    public long Columns => weight.shape[1];
    /// <summary>x·Wᵀ: the C# product on float32 CPU tensors without gradients (<see cref="Kernels.FloatGemm"/>), torch's otherwise.</summary>
    public Tensor Multiply(Tensor x) => Kernels.FloatGemm.TryLinear(x, weight) ?? linear(x, weight);
    public Tensor ToFloat32() => weight.alias();
}
