using GrokLens.Model;
using TorchSharp;

namespace GrokLens.Loading.Placement;

/// <summary>Wraps a checkpoint's weight source while the model is built: puts each weight on its device from the <see cref="DeviceMap"/>.</summary>
internal sealed class PlacingWeightSource(IWeightSource inner, DeviceMap map, Action<WeightId>? onCreated = null) : IWeightSource
{
    public torch.Tensor Create(WeightId id, long[] shape)
    {
        var tensor = inner.Create(id, shape).MovedTo(torch.device(map.DeviceOfWeight(id)));
        onCreated?.Invoke(id);
        return tensor;
    }
}
