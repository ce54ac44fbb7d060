using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>
/// A projection matrix W [out, in] as the forward pass uses it: y = x·Wᵀ. Resident float32 parameters, int8 weights and
/// streamed layers implement it, so the model's code is the same whichever holds the weights.
/// </summary>
public interface IMatrix
{
    /// <summary>Output features (rows of W).</summary>
    long Rows { get; }

    /// <summary>Input features (columns of W).</summary>
    long Columns { get; }

    /// <summary>x [..., in] → x·Wᵀ [..., out], on x's device.</summary>
    Tensor Multiply(Tensor x);

    /// <summary>W as float32 [out, in]: a view of resident weights, a dequantised copy otherwise. The caller disposes it.</summary>
    Tensor ToFloat32();
}
