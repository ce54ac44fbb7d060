using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>
/// Removes one expert's output where the router chose it: its gate weight becomes 0, so the token keeps only its
/// other experts' contributions. The routing itself is unchanged.
/// </summary>
public sealed record AblateExpert(int Layer, int Expert, IReadOnlyList<int>? Positions = null) : Intervention
{
    public override string Describe() => $"ablate expert {Expert} of layer {Layer} (output removed) {Where(Positions)}";

    public override void Validate(GrokConfig config)
    {
        CheckLayer(config, Layer);
        CheckExpert(config, Expert);
        CheckPositions(Positions, config);
    }

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context)
    {
        var state = new RoutingState();
        yield return (HookPoints.Layer(Layer, HookPoints.TopKIndices), (indices, _) => { state.Indices = indices; return null; });
        yield return (HookPoints.Layer(Layer, HookPoints.TopKWeights), (weights, hook) =>
        {
            using var positions = PositionMask.For(weights, 1, Positions, hook.PositionOffset);
            using var chosen = state.Indices!.eq(Expert).logical_and(positions);
            return weights.masked_fill(chosen, 0.0);
        });
    }
}
