using GrokLens.Checkpoints;
using GrokLens.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Points a layer's placeholder parameters at real tensors while the layer runs (<c>set_</c> swaps storage without
/// copying) and back at their placeholders afterwards, freeing the real tensors. int8 expert matrices are handed to the
/// layer's MoE as they are (it dequantises one chosen expert at a time); other int8 matrices (attention: small) are
/// dequantised for the whole layer.
/// </summary>
internal sealed class LayerParameters
{
    private const string GateSuffix = ".moe.linear.weight";
    private const string UpSuffix = ".moe.linear_v.weight";
    private const string DownSuffix = ".moe.linear_1.weight";

    private readonly List<(string Name, Parameter Parameter, Tensor Placeholder)>[] byLayer;
    private readonly GrokMoE[] moes;

    public LayerParameters(GrokModel model, IEnumerable<string> names)
    {
        var wanted = names.ToHashSet(StringComparer.Ordinal);
        byLayer = Enumerable.Range(0, model.Config.NumLayers).Select(_ => new List<(string, Parameter, Tensor)>()).ToArray();
        moes = model.layers.Select(layer => layer.moe).ToArray();
        foreach (var (name, parameter) in model.NamedWeights)
        {
            if (!wanted.Contains(name)) continue;
            byLayer[LayerOf(name)].Add((name, parameter, parameter.detach()));
        }
    }

    public IReadOnlyList<string> NamesOf(int layer) => byLayer[layer].Select(p => p.Name).ToList();

    /// <summary>
    /// Fills layer <paramref name="layer"/> from float32 <paramref name="floats"/> and int8 <paramref name="quantized"/>
    /// tensors (by name, together covering the layer). Disposing the result restores the placeholders and frees the float
    /// tensors, and the int8 ones too when <paramref name="ownsQuantized"/> (streamed layers; resident int8 is kept).
    /// </summary>
    public IDisposable Fill(int layer, IReadOnlyDictionary<string, Tensor> floats, IReadOnlyDictionary<string, QuantizedWeight> quantized,
        bool ownsQuantized)
    {
        var experts = ExpertsOf(layer, quantized);
        var held = new Dictionary<string, Tensor>(floats, StringComparer.Ordinal);
        try
        {
            foreach (var (name, weight) in quantized)
            {
                if (experts is not null && IsExpertMatrix(name)) continue;
                var dequantized = weight.Dequantize();
                dequantized.DetachFromDisposeScope();
                held[name] = dequantized;
            }
        }
        catch
        {
            foreach (var name in quantized.Keys) if (held.TryGetValue(name, out var tensor)) tensor.Dispose();
            throw;
        }
        using (no_grad())
            foreach (var (name, parameter, _) in byLayer[layer])
                if (held.TryGetValue(name, out var tensor)) parameter.set_(tensor);
        moes[layer].Int8Experts = experts;
        return new Release(this, layer, held, ownsQuantized ? quantized.Values.ToList() : []);
    }

    /// <summary>The layer's three int8 expert matrices, or null unless all three are int8.</summary>
    private static QuantizedExperts? ExpertsOf(int layer, IReadOnlyDictionary<string, QuantizedWeight> quantized)
    {
        var prefix = GrokParameterNames.Layer(layer);
        return quantized.TryGetValue(prefix + GateSuffix, out var gate) && quantized.TryGetValue(prefix + UpSuffix, out var up)
                                                                      && quantized.TryGetValue(prefix + DownSuffix, out var down)
            ? new QuantizedExperts(gate, up, down)
            : null;
    }

    private static bool IsExpertMatrix(string name) =>
        name.EndsWith(GateSuffix, StringComparison.Ordinal) || name.EndsWith(UpSuffix, StringComparison.Ordinal)
                                                              || name.EndsWith(DownSuffix, StringComparison.Ordinal);

    private static int LayerOf(string name)
    {
        const string prefix = "transformer.decoder_layer.";
        int dot = name.IndexOf('.', prefix.Length);
        return int.Parse(name[prefix.Length..dot]);
    }

    private sealed class Release(LayerParameters owner, int layer, Dictionary<string, Tensor> tensors, List<QuantizedWeight> owned)
        : IDisposable
    {
        public void Dispose()
        {
            owner.moes[layer].Int8Experts = null;
            using (no_grad())
                foreach (var (_, parameter, placeholder) in owner.byLayer[layer])
                    parameter.set_(placeholder);
            foreach (var tensor in tensors.Values) tensor.Dispose();
            foreach (var weight in owned) weight.Dispose();
        }
    }
}
