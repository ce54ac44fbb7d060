using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Interventions;

/// <summary>
/// Divides each token's gate weights by their sum, as llama.cpp and vLLM do for Grok-1 (xAI's model.py does not).
/// Because the post-MoE RMSNorm rescales the MoE output, the effect is small but not zero (it changes the norm's
/// effective eps); this lets researchers see it.
/// </summary>
public sealed record RenormaliseGates(IReadOnlyList<int>? Layers = null) : Intervention
{
    public override string Describe() => $"renormalise top-k gate weights to sum to 1 in {SetTopK.LayerText(Layers)}";

    public override void Validate(GrokConfig config)
    {
        foreach (int layer in Layers ?? []) CheckLayer(config, layer);
    }

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context) =>
        (Layers ?? Enumerable.Range(0, context.Config.NumLayers))
        .Select(layer => (HookPoints.Layer(layer, HookPoints.TopKWeights), (HookFunction)((w, _) => w / w.sum(-1, keepdim: true))));
}
