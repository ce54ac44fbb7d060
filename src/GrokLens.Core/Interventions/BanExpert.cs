using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>
/// The router never picks one expert: its probability is treated as below every other, so the next-best expert takes
/// its slot. Gate weights stay the raw router probabilities of the experts now chosen.
/// </summary>
public sealed record BanExpert(int Layer, int Expert, IReadOnlyList<int>? Positions = null) : Intervention
{
    public override string Describe() => $"ban expert {Expert} of layer {Layer} (next-best takes its slot) {Where(Positions)}";

    public override void Validate(GrokConfig config)
    {
        CheckLayer(config, Layer);
        CheckExpert(config, Expert);
        CheckPositions(Positions, config);
        if (config.NumExperts - 1 < config.TopK)
            throw new InterventionException($"banning an expert leaves fewer than top-k = {config.TopK} experts.");
    }

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context)
    {
        var state = new RoutingState();
        yield return (HookPoints.Layer(Layer, HookPoints.RouterProbs), (p, _) => state.RecordProbabilities(p));
        yield return (HookPoints.Layer(Layer, HookPoints.TopKIndices), (indices, hook) =>
        {
            var probabilities = state.Probabilities!;
            using var positions = PositionMask.For(probabilities, 1, Positions, hook.PositionOffset);
            using var banned = positions.logical_and(arange(probabilities.shape[2], device: probabilities.device).eq(Expert));
            var (_, rechosen) = probabilities.masked_fill(banned, -1.0).topk((int)indices.shape[2], -1);
            state.Indices = rechosen;
            return rechosen;
        });
        yield return (HookPoints.Layer(Layer, HookPoints.TopKWeights), (_, _) => state.GatesOf(state.Indices!));
    }
}
