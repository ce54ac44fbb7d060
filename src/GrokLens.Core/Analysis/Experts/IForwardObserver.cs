using GrokLens.Hooks;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// A reduction computed inside the forward pass by hook functions, for activations too large to capture on a big model
/// (the [T, k, D] expert outputs of 64 layers): the hooks keep a few numbers per token, <see cref="EndRun"/> folds them
/// in once the run's captures (e.g. the top-k indices) are known. Its hooks must run after the interventions' so that they
/// see the values the model goes on with (<see cref="ExpertPass"/> orders them so).
/// </summary>
public interface IForwardObserver
{
    /// <summary>Hook functions for the next run (state is kept until <see cref="EndRun"/>).</summary>
    IEnumerable<(string HookName, HookFunction Function)> Hooks();

    /// <summary>Hooks the observer needs captured (read in <see cref="EndRun"/>).</summary>
    IReadOnlyList<string> Captures { get; }

    /// <summary>Folds the run that just ended into the sums.</summary>
    void EndRun(ActivationCache cache);
}
