using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Interventions;

/// <summary>Routes each token to its K most likely experts instead of the config's top-k (gates stay raw probabilities).</summary>
public sealed record SetTopK(int K, IReadOnlyList<int>? Layers = null) : Intervention
{
    public override string Describe() => $"use top-{K} routing in {LayerText(Layers)}";

    public override void Validate(GrokConfig config)
    {
        if (K < 1 || K > config.NumExperts) throw new InterventionException($"top-k must be 1…{config.NumExperts}, got {K}.");
        foreach (int layer in Layers ?? []) CheckLayer(config, layer);
    }

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context)
    {
        foreach (int layer in Layers ?? Enumerable.Range(0, context.Config.NumLayers))
        {
            var state = new RoutingState();
            yield return (HookPoints.Layer(layer, HookPoints.RouterProbs), (p, _) => state.RecordProbabilities(p));
            yield return (HookPoints.Layer(layer, HookPoints.TopKIndices), (_, _) =>
            {
                var (_, indices) = state.Probabilities!.topk(K, -1);
                return state.Indices = indices;
            });
            yield return (HookPoints.Layer(layer, HookPoints.TopKWeights), (_, _) => state.GatesOf(state.Indices!));
        }
    }

    internal static string LayerText(IReadOnlyList<int>? layers) =>
        layers is null || layers.Count == 0 ? "all layers" : $"layer{(layers.Count == 1 ? "" : "s")} {string.Join(", ", layers)}";
}
