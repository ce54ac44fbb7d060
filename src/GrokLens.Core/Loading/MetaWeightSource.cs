using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading;

/// <summary>Weights on the meta device: shapes only, no memory. Builds even Grok-1's 316B-parameter tree instantly.</summary>
public sealed class MetaWeightSource : IWeightSource
{
    public Tensor Create(WeightId id, long[] shape) =>
        empty(shape, dtype: ScalarType.Float32, device: new Device(DeviceType.META));
}
