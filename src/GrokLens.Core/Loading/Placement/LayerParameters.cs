using GrokLens.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Points a layer's placeholder parameters at real tensors while the layer runs (<c>set_</c> swaps storage without
/// copying) and back at their placeholders afterwards, freeing the real tensors.
/// </summary>
internal sealed class LayerParameters
{
    private readonly List<(string Name, Parameter Parameter, Tensor Placeholder)>[] byLayer;

    public LayerParameters(GrokModel model, IEnumerable<string> names)
    {
        var wanted = names.ToHashSet(StringComparer.Ordinal);
        byLayer = Enumerable.Range(0, model.Config.NumLayers).Select(_ => new List<(string, Parameter, Tensor)>()).ToArray();
        foreach (var (name, parameter) in model.NamedWeights)
        {
            if (!wanted.Contains(name)) continue;
            byLayer[LayerOf(name)].Add((name, parameter, parameter.detach()));
        }
    }

    public IReadOnlyList<string> NamesOf(int layer) => byLayer[layer].Select(p => p.Name).ToList();

    /// <summary>Fills layer <paramref name="layer"/> with <paramref name="tensors"/> (by name); disposing restores the placeholders.</summary>
    public IDisposable Fill(int layer, IReadOnlyDictionary<string, Tensor> tensors)
    {
        using (no_grad())
            foreach (var (name, parameter, _) in byLayer[layer])
                parameter.set_(tensors[name]);
        return new Release(this, layer, tensors);
    }

    private static int LayerOf(string name)
    {
        const string prefix = "transformer.decoder_layer.";
        int dot = name.IndexOf('.', prefix.Length);
        return int.Parse(name[prefix.Length..dot]);
    }

    private sealed class Release(LayerParameters owner, int layer, IReadOnlyDictionary<string, Tensor> tensors) : IDisposable
    {
        public void Dispose()
        {
            using (no_grad())
                foreach (var (_, parameter, placeholder) in owner.byLayer[layer])
                    parameter.set_(placeholder);
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }
}
