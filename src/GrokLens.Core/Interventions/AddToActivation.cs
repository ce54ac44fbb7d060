using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>
/// Steering: adds Coefficient × Vector to a hook's activation at chosen positions. The vector's length is the hook's
/// last dimension (e.g. D for the residual stream); build one with <see cref="SteeringVectors.MeanDifference"/>.
/// </summary>
public sealed record AddToActivation(string Hook, float[] Vector, double Coefficient = 1.0, IReadOnlyList<int>? Positions = null)
    : Intervention
{
    public override string Describe() => $"add {Coefficient:0.###} × a {Vector.Length}-dim vector to {Hook} {Where(Positions)}";

    public override void Validate(GrokConfig config)
    {
        ActivationTarget.Check(config, Hook);
        CheckPositions(Positions, config);
        if (Vector.Length == 0) throw new InterventionException("the steering vector is empty.");
    }

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context)
    {
        yield return (Hook, (activation, hook) =>
        {
            if (activation.shape[^1] != Vector.Length)
                throw new InterventionException(
                    $"the steering vector has {Vector.Length} values but {Hook}'s last dimension is {activation.shape[^1]}.");
            using var vector = tensor(Vector, device: activation.device) * Coefficient;
            using var mask = PositionMask.For(activation, HookLayout.PositionDimension(Hook), Positions, hook.PositionOffset);
            return where(mask, activation + vector, activation);
        });
    }
}
