using GrokLens.Hooks;
using GrokLens.Interventions;

namespace GrokLens.Engine;

/// <summary>What to capture and which interventions and hook functions to run during one forward pass.</summary>
public sealed record RunOptions
{
    /// <summary>Hook names or glob patterns (e.g. <c>blocks.*.attn.hook_pattern</c>, <c>*</c> for everything).</summary>
    public IReadOnlyList<string> Capture { get; init; } = [];

    /// <summary>
    /// Hook functions by exact hook name; they may replace the activation. C# code runs only in-process: a cluster engine
    /// rejects them (use <see cref="Interventions"/>, which run where the layers live).
    /// </summary>
    public IReadOnlyList<(string HookName, HookFunction Function)> Hooks { get; init; } = [];

    /// <summary>JSON-serialisable interventions, validated before the run and applied after <see cref="Hooks"/>.</summary>
    public IReadOnlyList<Intervention> Interventions { get; init; } = [];

    /// <summary>Activations of another run that patching interventions read.</summary>
    public ActivationCache? Source { get; init; }

    /// <summary>
    /// Hooks to reduce per neuron instead of returning them raw (batch <c>--reduce</c>): the result's
    /// <see cref="RunResult.Reduction"/> holds this run's sums, counts and maxima and every layer's expert counts and
    /// routing statistics; a cluster computes them on the shards. Null: no reduction.
    /// </summary>
    public IReadOnlyList<string>? Reduce { get; init; }

    public static RunOptions CaptureOnly(params string[] patterns) => new() { Capture = patterns };
}
