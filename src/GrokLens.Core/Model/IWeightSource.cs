using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>
/// Supplies each parameter's tensor while the module tree is built, so a model is created directly with its final
/// weights on its device (or on the meta device, allocating nothing) and never holds two copies.
/// </summary>
public interface IWeightSource
{
    /// <summary>Returns a float32 tensor of exactly <paramref name="shape"/> for the weight.</summary>
    Tensor Create(WeightId id, long[] shape);
}
