namespace GrokLens.Interventions;

/// <summary>An intervention that cannot apply to this model or run (e.g. layer 9 of a 4-layer model).</summary>
public sealed class InterventionException(string message) : ArgumentException(message);
