using System.Globalization;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Which device holds each decoder layer. The embedding and final norm live with layer 0; activations move to a
/// layer's device when it starts and come back for the output. Written like <c>0-31:cuda:0,32-63:cpu</c>.
/// </summary>
public sealed class DeviceMap
{
    private readonly string[] layerDevices;

    public DeviceMap(IReadOnlyList<string> layerDevices)
    {
        if (layerDevices.Count == 0) throw new ArgumentException("A device map needs at least one layer.");
        this.layerDevices = layerDevices.Select(Normalise).ToArray();
    }

    public int NumLayers => layerDevices.Length;

    public string DeviceOf(int layer) => layerDevices[layer];

    /// <summary>Device of a weight: its layer's, or layer 0's for the embedding, final norm and head.</summary>
    public string DeviceOfWeight(WeightId id) => layerDevices[id.IsLayerWeight ? id.Layer : 0];

    public static DeviceMap Uniform(int numLayers, string device) => new(Enumerable.Repeat(device, numLayers).ToArray());

    /// <summary>Parses <c>0-31:cuda:0,32-63:cpu</c>; every layer must be named exactly once.</summary>
    public static DeviceMap Parse(string text, int numLayers)
    {
        var devices = new string?[numLayers];
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = part.IndexOf(':');
            if (colon <= 0) throw Invalid(text, $"'{part}' is not LAYERS:DEVICE (e.g. 0-31:cuda:0)");
            var (first, last) = ParseRange(text, part[..colon]);
            var device = Normalise(part[(colon + 1)..]);
            if (last >= numLayers) throw Invalid(text, $"layer {last} does not exist (the model has layers 0-{numLayers - 1})");
            for (int layer = first; layer <= last; layer++)
            {
                if (devices[layer] is not null) throw Invalid(text, $"layer {layer} is placed twice");
                devices[layer] = device;
            }
        }
        var missing = Enumerable.Range(0, numLayers).Where(l => devices[l] is null).ToList();
        if (missing.Count > 0) throw Invalid(text, $"layers {Describe(missing)} have no device");
        return new DeviceMap(devices!);
    }

    /// <summary>
    /// Like accelerate's <c>device_map="auto"</c>: fills the devices in the order given (GPUs first, then the CPU) with
    /// consecutive layers while each fits in the device's capacity, after the weights of layer 0's device's globals.
    /// Throws if the model does not fit anywhere (then layer streaming is the way).
    /// </summary>
    public static DeviceMap Auto(int numLayers, long bytesPerLayer, long globalBytes, IReadOnlyList<(string Device, long Capacity)> capacities)
    {
        var devices = new List<string>();
        long used = 0;
        int deviceIndex = 0;
        while (devices.Count < numLayers)
        {
            if (deviceIndex >= capacities.Count)
                throw new InsufficientMemoryException(
                    $"The model needs {Format(globalBytes + numLayers * bytesPerLayer)} but the devices hold only " +
                    $"{string.Join(", ", capacities.Select(c => $"{c.Device} {Format(c.Capacity)}"))}; only {devices.Count} of {numLayers} layers fit. " +
                    "Use --stream-layers to run one layer at a time from disk.");
            var (device, capacity) = capacities[deviceIndex];
            long needed = bytesPerLayer + (devices.Count == 0 && used == 0 ? globalBytes : 0);
            if (used + needed <= capacity)
            {
                devices.Add(device);
                used += needed;
            }
            else
            {
                deviceIndex++;
                used = 0;
            }
        }
        return new DeviceMap(devices);
    }

    /// <summary>Compact text such as <c>0-31:cuda:0,32-63:cpu</c> (parses back to the same map).</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        int start = 0;
        for (int layer = 1; layer <= layerDevices.Length; layer++)
        {
            if (layer < layerDevices.Length && layerDevices[layer] == layerDevices[start]) continue;
            parts.Add((start == layer - 1 ? $"{start}" : $"{start}-{layer - 1}") + ":" + layerDevices[start]);
            start = layer;
        }
        return string.Join(",", parts);
    }

    public static string Format(long bytes) => Formatting.ByteSize.Format(bytes);

    private static (int First, int Last) ParseRange(string text, string range)
    {
        var ends = range.Split('-');
        if (ends.Length is < 1 or > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            throw Invalid(text, $"'{range}' is not a layer or a range such as 0-31");
        int first = int.Parse(ends[0], CultureInfo.InvariantCulture), last = int.Parse(ends[^1], CultureInfo.InvariantCulture);
        if (last < first) throw Invalid(text, $"range '{range}' runs backwards");
        return (first, last);
    }

    /// <summary>"cpu", "cuda:N" (a bare "cuda" means cuda:0); anything else is refused.</summary>
    private static string Normalise(string device)
    {
        device = device.Trim().ToLowerInvariant();
        if (device == "cpu") return device;
        if (device == "cuda") return "cuda:0";
        if (device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device[5..], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            return device;
        throw new ArgumentException($"Unknown device '{device}' in the device map: use cpu or cuda:N.");
    }

    private static string Describe(List<int> layers) => layers.Count <= 5 ? string.Join(", ", layers) : $"{string.Join(", ", layers.Take(5))}, …";

    private static ArgumentException Invalid(string text, string problem) => new($"Invalid device map '{text}': {problem}.");
}
