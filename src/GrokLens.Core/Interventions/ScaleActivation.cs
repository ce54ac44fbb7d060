using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>Multiplies a hook's activation by a factor at chosen positions (e.g. 0 removes it, 2 doubles it).</summary>
public sealed record ScaleActivation(string Hook, double Factor, IReadOnlyList<int>? Positions = null) : Intervention
{
    public override string Describe() => $"scale {Hook} by {Factor:0.###} {Where(Positions)}";

    public override void Validate(GrokConfig config)
    {
        ActivationTarget.Check(config, Hook);
        CheckPositions(Positions, config);
    }

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context)
    {
        yield return (Hook, (activation, hook) =>
        {
            using var mask = PositionMask.For(activation, HookLayout.PositionDimension(Hook), Positions, hook.PositionOffset);
            return where(mask, activation * Factor, activation);
        });
    }
}
