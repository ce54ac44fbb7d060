using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>One kind of matrix for each of a layer's experts, W_e [out, in] for e = 0…E−1.</summary>
public interface IExpertMatrices
{
    int Count { get; }
    long Rows { get; }
    long Columns { get; }

    /// <summary>rows [N, in] → rows·W_eᵀ [N, out].</summary>
    Tensor Multiply(int expert, Tensor rows);

    /// <summary>W_e as float32 [out, in]: a view of resident weights, a dequantised copy otherwise. The caller disposes it.</summary>
    Tensor ToFloat32(int expert);
}
