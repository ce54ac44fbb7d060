using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>
/// Expert steering (SteerMoE): adds <see cref="Bias"/> to one expert's router logit, on the logits the router's softmax
/// reads — <c>moe.hook_router_logits</c> in Grok-1, <c>moe.hook_router_logits_capped</c> (after the cap) in Grok-2. The
/// expert's probability odds against every other expert are multiplied by e^bias whatever the logit's size (before the
/// cap, a saturated logit would hardly move). Top-k choice and gates then follow the steered probabilities, as the model
/// computes them; a large positive bias puts the expert in every token's top-k, a large negative one keeps it out.
/// </summary>
public sealed record RouterBias(int Layer, int Expert, double Bias, IReadOnlyList<int>? Positions = null) : Intervention
{
    public override string Describe() =>
        $"add {Bias.ToString("+0.###;-0.###;0", System.Globalization.CultureInfo.InvariantCulture)} to expert {Expert}'s router logit in layer {Layer} {Where(Positions)}";

    public override void Validate(GrokConfig config)
    {
        CheckLayer(config, Layer);
        CheckExpert(config, Expert);
        CheckPositions(Positions, config);
        if (!double.IsFinite(Bias)) throw new InterventionException($"the bias must be a finite number, not {Bias}.");
    }

    /// <summary>The hook whose logits the softmax reads: after Grok-2's router cap where there is one.</summary>
    public static string SteeredHook(GrokConfig config, int layer) =>
        HookPoints.Layer(layer, config.RouterLogitSoftcap > 0 ? HookPoints.RouterLogitsCapped : HookPoints.RouterLogits);

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context)
    {
        yield return (SteeredHook(context.Config, Layer), (logits, hook) =>
        {
            using var positions = PositionMask.For(logits, 1, Positions, hook.PositionOffset);
            using var isExpert = arange(logits.shape[2], device: logits.device).eq(Expert);
            using var steered = positions.logical_and(isExpert);
            return logits + steered.to_type(logits.dtype) * Bias;
        });
    }
}
