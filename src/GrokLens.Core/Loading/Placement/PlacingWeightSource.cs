using TorchSharp;
using GrokLens.Checkpoints;
using GrokLens.Loading.Quantization;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Wraps a checkpoint's weight source while the model is built: puts each weight on its device from the
/// <see cref="DeviceMap"/>, and for int8 or streamed residency gives the model a placeholder (a zero-stride view of one
/// element: no memory) for layer weights, remembering what to fill in when the layer runs.
/// </summary>
internal sealed class PlacingWeightSource(IWeightSource inner, DeviceMap map, WeightResidency residency, Action<string>? onCreated = null)
    : IWeightSource
{
    private const string LayerPrefix = "transformer.decoder_layer.";

    /// <summary>int8 weights (on their devices) by canonical name, for <see cref="WeightResidency.Int8"/>.</summary>
    public Dictionary<string, QuantizedWeight> Quantized { get; } = new(StringComparer.Ordinal);

    /// <summary>Shapes of the layer weights left to be streamed, by canonical name.</summary>
    public Dictionary<string, long[]> Streamed { get; } = new(StringComparer.Ordinal);

    public Tensor Create(string name, long[] shape)
    {
        var tensor = Place(name, shape);
        onCreated?.Invoke(name);
        return tensor;
    }

    private Tensor Place(string name, long[] shape)
    {
        var device = torch.device(map.DeviceOfParameter(name));
        bool isLayerWeight = name.StartsWith(LayerPrefix, StringComparison.Ordinal);
        if (isLayerWeight && residency == WeightResidency.Streamed)
        {
            Streamed[name] = shape;
            return Placeholder(shape, device);
        }
        if (isLayerWeight && residency == WeightResidency.Int8 && inner is IQuantizedWeightSource quantizedSource
            && quantizedSource.TryCreateQuantized(name, shape) is { } quantized)
        {
            Quantized[name] = quantized.To(device);
            if (!ReferenceEquals(Quantized[name], quantized)) quantized.Dispose();
            return Placeholder(shape, device);
        }
        return inner.Create(name, shape).MovedTo(device);
    }

    /// <summary>A tensor of <paramref name="shape"/> backed by a single zero: what a parameter holds while its layer is idle.</summary>
    public static Tensor Placeholder(long[] shape, Device device)
    {
        using var one = zeros(1, dtype: ScalarType.Float32, device: device);
        return one.expand(shape);
    }
}
