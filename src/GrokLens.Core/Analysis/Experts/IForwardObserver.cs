using GrokLens.Hooks;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// A reduction of activations too large to keep on a big model (the [T, k, D] expert outputs of 64 layers). In this
/// process it is computed by hook functions as each layer runs, which keep a few numbers per token; an engine that runs
/// no C# hooks (a cluster) captures <see cref="FallbackCaptures"/> instead and <see cref="EndRun"/> reduces them. Either
/// way <see cref="EndRun"/> folds the run in once its captures (e.g. the top-k indices) are known. The hooks must run
/// after the interventions' so that they see the values the model goes on with (<see cref="ExpertPass"/> orders them so).
/// </summary>
public interface IForwardObserver
{
    /// <summary>Hook functions for the next in-process run (their state is kept until <see cref="EndRun"/>).</summary>
    IEnumerable<(string HookName, HookFunction Function)> Hooks();

    /// <summary>Hooks <see cref="EndRun"/> reads from the captures in either case.</summary>
    IReadOnlyList<string> Captures { get; }

    /// <summary>Hooks to capture instead when the engine cannot run <see cref="Hooks"/>.</summary>
    IReadOnlyList<string> FallbackCaptures { get; }

    /// <summary>Folds the run that just ended into the sums (from what the hooks kept, or else from the captures).</summary>
    void EndRun(ActivationCache cache);
}
