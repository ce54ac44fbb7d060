using GrokLens.Hooks;
using GrokLens.Interventions;

namespace GrokLens.Engine;

/// <summary>What a generation changes in the forward pass: JSON interventions (with a source run for patching).</summary>
public sealed record GenerationRequest
{
    public IReadOnlyList<Intervention> Interventions { get; init; } = [];

    /// <summary>Activations of another run that patching interventions read.</summary>
    public ActivationCache? Source { get; init; }
}
