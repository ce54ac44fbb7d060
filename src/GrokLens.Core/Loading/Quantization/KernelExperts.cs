using GrokLens.Kernels;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading.Quantization;

/// <summary>Each expert's int8 matrix multiplied by the kernels where it lies.</summary>
public sealed class KernelExperts(IReadOnlyList<Int8Matrix> experts) : IExpertMatrices
{
    /// <summary>Expert <paramref name="expert"/>'s int8 matrix.</summary>
    public Int8Matrix Weight(int expert) => experts[expert];

    public int Count => experts.Count;
    public long Rows => experts[0].Rows;
    public long Columns => experts[0].Columns;
    public Tensor Multiply(int expert, Tensor rows) => KernelProduct.Of(experts[expert], rows);
    public Tensor ToFloat32(int expert) => Int8Dequantizer.ToFloat32(experts[expert]);
}
