using GrokLens.Checkpoints;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>Memory held by a model's weights, per device: what the model panel and <c>groklens info</c> show.</summary>
public static class WeightMemory
{
    /// <summary>
    /// Bytes per device ("cpu", "cuda:0", …) of parameters that hold storage (not meta tensors) plus the matrices a
    /// matrix source holds (int8 values and their scales). A streamed model additionally holds up to two layers while it
    /// runs; they are not counted.
    /// </summary>
    public static IReadOnlyDictionary<string, long> ByDevice(GrokModel model)
    {
        var bytes = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (_, parameter) in model.Weights)
            if (parameter.device_type != DeviceType.META)
                Add(bytes, parameter.device.ToString(), parameter.NumberOfElements * parameter.ElementSize);
        foreach (var (device, count) in model.MatrixSource?.BytesByDevice ?? new Dictionary<string, long>())
            Add(bytes, device, count);
        return bytes;
    }

    private static void Add(SortedDictionary<string, long> bytes, string device, long count) =>
        bytes[device] = bytes.GetValueOrDefault(device) + count;
}
