using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Interventions;

/// <summary>What interventions may use while building their hook functions for one run.</summary>
/// <param name="Config">The model's config.</param>
/// <param name="Source">Activations of another run (the source of patches), if any.</param>
public sealed record InterventionContext(GrokConfig Config, ActivationCache? Source = null);
