using GrokLens.Checkpoints;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>Weight-only int8: keeps int8 values and scales, dequantising one layer's matrices just before it runs.</summary>
internal sealed class Int8LayerWeights(GrokModel model, Dictionary<string, QuantizedWeight> quantized) : ILayerWeights
{
    private readonly LayerParameters parameters = new(model, quantized.Keys);

    public long Int8Bytes => quantized.Values.Sum(q => q.ByteSize);

    public string Description => $"int8 weights ({DeviceMap.Format(Int8Bytes)} for {quantized.Count} matrices, dequantised per layer)";

    public IDisposable Acquire(int layer)
    {
        var tensors = parameters.NamesOf(layer).ToDictionary(n => n, n => quantized[n].Dequantize(), StringComparer.Ordinal);
        foreach (var tensor in tensors.Values) tensor.DetachFromDisposeScope();
        return parameters.Fill(layer, tensors);
    }

    public void Dispose()
    {
        foreach (var weight in quantized.Values) weight.Dispose();
    }
}
