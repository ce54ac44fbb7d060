using GrokLens.Checkpoints;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Weight-only int8: keeps int8 values and scales. When a layer runs its attention matrices are dequantised, and its
/// experts are dequantised one at a time inside the MoE, only those tokens were routed to.
/// </summary>
internal sealed class Int8LayerWeights(GrokModel model, Dictionary<string, QuantizedWeight> quantized) : ILayerWeights
{
    private readonly LayerParameters parameters = new(model, quantized.Keys);

    public long Int8Bytes => quantized.Values.Sum(q => q.ByteSize);

    public string Description => $"int8 weights ({DeviceMap.Format(Int8Bytes)} for {quantized.Count} matrices, experts dequantised one at a time)";

    public IDisposable Acquire(int layer)
    {
        var ofLayer = parameters.NamesOf(layer).ToDictionary(n => n, n => quantized[n], StringComparer.Ordinal);
        return parameters.Fill(layer, new Dictionary<string, Tensor>(), ofLayer, ownsQuantized: false);
    }

    public void Dispose()
    {
        foreach (var weight in quantized.Values) weight.Dispose();
    }
}
