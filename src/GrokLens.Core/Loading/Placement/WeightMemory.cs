using GrokLens.Checkpoints;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>Memory held by a model's weights, per device: what the model panel and <c>groklens info</c> show.</summary>
public static class WeightMemory
{
    /// <summary>
    /// Bytes per device ("cpu", "cuda:0", …) of float parameters that hold storage (not the placeholders of int8 or streamed
    /// layers, not meta tensors) plus int8 values and their scales. A streamed model additionally holds up to two layers
    /// while it runs; they are not counted.
    /// </summary>
    public static IReadOnlyDictionary<string, long> ByDevice(GrokModel model, IEnumerable<QuantizedWeight> int8)
    {
        var bytes = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (_, parameter) in model.NamedWeights)
            if (parameter.device_type != DeviceType.META && !IsPlaceholder(parameter))
                Add(bytes, parameter.device, parameter.NumberOfElements * parameter.ElementSize);
        foreach (var weight in int8) Add(bytes, weight.Values.device, weight.ByteSize);
        return bytes;
    }

    /// <summary>A placeholder is one element broadcast to the parameter's shape (all strides 0).</summary>
    private static bool IsPlaceholder(Tensor tensor) => tensor.NumberOfElements > 1 && tensor.stride().All(s => s == 0);

    private static void Add(SortedDictionary<string, long> bytes, Device device, long count)
    {
        var name = device.ToString();
        bytes[name] = bytes.GetValueOrDefault(name) + count;
    }
}
