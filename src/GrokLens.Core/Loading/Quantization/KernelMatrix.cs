using GrokLens.Kernels;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading.Quantization;

/// <summary>An int8 matrix multiplied by the int8 kernels where it lies (a mapped file): no float32 copy of W is made.</summary>
public sealed class KernelMatrix(Int8Matrix weight) : IMatrix
{
    /// <summary>The int8 matrix the kernels read (e.g. for the bytes a product reads).</summary>
    public Int8Matrix Weight => weight;

    public long Rows => weight.Rows;
    public long Columns => weight.Columns;
    public Tensor Multiply(Tensor x) => KernelProduct.Of(weight, x);
    public Tensor ToFloat32() => Int8Dequantizer.ToFloat32(weight);
}
