using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>
/// Activation patching: at a hook, take the values of another run (the source: clean → corrupted or back) at chosen
/// positions and, for per-head hooks, chosen heads. Both runs must have the same number of tokens.
/// </summary>
public sealed record PatchActivation(string Hook, IReadOnlyList<int>? Positions = null, IReadOnlyList<int>? Heads = null)
    : Intervention
{
    public override string Describe() =>
        $"patch {Hook}{(Heads is { Count: > 0 } ? $" heads {string.Join(", ", Heads)}" : "")} from the source run {Where(Positions)}";

    public override void Validate(GrokConfig config)
    {
        ActivationTarget.Check(config, Hook);
        CheckPositions(Positions, config);
        if (Heads is { Count: > 0 } && HookLayout.HeadDimension(Hook) is null)
            throw new InterventionException($"{Hook} has no head dimension; leave heads empty.");
    }

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context)
    {
        var source = context.Source ?? throw new InterventionException($"patching {Hook} needs a source run.");
        yield return (Hook, (activation, hook) =>
        {
            if (!source.TryGet(Hook, out var sourceValues))
                throw new InterventionException($"the source run did not capture {Hook}.");
            using var patch = sourceValues.unsqueeze(0).to(activation.device);
            if (!patch.shape.SequenceEqual(activation.shape))
                throw new InterventionException(
                    $"cannot patch {Hook}: the source has shape [{string.Join(", ", sourceValues.shape)}], this run " +
                    $"[{string.Join(", ", activation.shape.Skip(1))}] (do both prompts have the same number of tokens?).");
            int positionDim = HookLayout.PositionDimension(Hook);
            using var mask = HookLayout.HeadDimension(Hook) is int headDim
                ? PositionMask.ForHeads(activation, positionDim, Positions, hook.PositionOffset, headDim, Heads)
                : PositionMask.For(activation, positionDim, Positions, hook.PositionOffset);
            return where(mask, patch, activation);
        });
    }
}
