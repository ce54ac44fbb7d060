using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Interventions;

/// <summary>
/// The reverse of routing patching: this run's routing is kept, but the experts' outputs come from the source run.
/// Per slot (<c>moe.hook_expert_out</c>, gated with THIS run's gate weights), or the whole gate-weighted MoE output
/// (<c>hook_moe_out</c>) when <paramref name="WholeMoeOutput"/> is set. Same number of tokens in both runs.
/// </summary>
public sealed record PatchExpertOutputs(IReadOnlyList<int>? Layers = null, IReadOnlyList<int>? Positions = null,
    bool WholeMoeOutput = false) : Intervention
{
    public override string Describe() =>
        $"take {(WholeMoeOutput ? "the gate-weighted MoE output" : "each slot's expert output (this run's gates)")} " +
        $"from the source run in {SetTopK.LayerText(Layers)} {Where(Positions)}; routing stays this run's";

    public override void Validate(GrokConfig config)
    {
        foreach (int layer in Layers ?? []) CheckLayer(config, layer);
        CheckPositions(Positions, config);
    }

    /// <summary>The source hooks this patch reads.</summary>
    public IEnumerable<string> SourceHooks(GrokConfig config) =>
        (Layers is { Count: > 0 } ? Layers : Enumerable.Range(0, config.NumLayers))
        .Select(l => HookPoints.Layer(l, WholeMoeOutput ? HookPoints.MoeOut : HookPoints.ExpertOut));

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context) =>
        SourceHooks(context.Config).SelectMany(hook => new PatchActivation(hook, Positions).CreateHooks(context));
}
