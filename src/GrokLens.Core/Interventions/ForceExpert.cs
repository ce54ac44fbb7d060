using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>
/// Puts one expert into a given slot for chosen tokens; the other slots hold the best remaining experts in order.
/// Gates are the raw router probabilities of the experts now chosen (including the forced one's).
/// </summary>
public sealed record ForceExpert(int Layer, int Expert, IReadOnlyList<int> Positions, int Slot = 0) : Intervention
{
    public override string Describe() => $"force expert {Expert} into slot {Slot} of layer {Layer} {Where(Positions)}";

    public override void Validate(GrokConfig config)
    {
        CheckLayer(config, Layer);
        CheckExpert(config, Expert);
        CheckPositions(Positions, config);
        if (Positions.Count == 0) throw new InterventionException("choose the positions whose expert is forced.");
        if (Slot < 0 || Slot >= config.TopK)
            throw new InterventionException($"slot {Slot} does not exist: tokens have slots 0…{config.TopK - 1}.");
    }

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context)
    {
        var state = new RoutingState();
        yield return (HookPoints.Layer(Layer, HookPoints.RouterProbs), (p, _) => state.RecordProbabilities(p));
        yield return (HookPoints.Layer(Layer, HookPoints.TopKIndices), (indices, hook) =>
        {
            var probabilities = state.Probabilities!;
            int k = (int)indices.shape[2];
            // Best experts other than the forced one, then the forced one spliced in at its slot.
            using var isForced = arange(probabilities.shape[2], device: probabilities.device).eq(Expert);
            var (_, others) = probabilities.masked_fill(isForced, -1.0).topk(k - 1, -1);
            var forced = full_like(indices.narrow(2, 0, 1), Expert);
            var spliced = cat([others.narrow(2, 0, Slot), forced, others.narrow(2, Slot, k - 1 - Slot)], 2);
            using var positions = PositionMask.For(indices, 1, Positions, hook.PositionOffset);
            state.Indices = where(positions, spliced, indices);
            return state.Indices;
        });
        yield return (HookPoints.Layer(Layer, HookPoints.TopKWeights), (_, _) => state.GatesOf(state.Indices!));
    }
}
