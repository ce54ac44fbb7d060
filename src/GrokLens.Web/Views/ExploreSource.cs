using GrokLens.Analysis;
using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Web.Views;

/// <summary>
/// Captured activations of one sequence, from a live run or an opened dump, for <see cref="ExploreResultBuilder"/>.
/// <paramref name="Lens"/> projects residuals through the model's final norm and unembedding; it is null when those
/// weights are not at hand (a dump of another model), and <paramref name="LensUnavailable"/> then says why.
/// </summary>
public sealed record ExploreSource(
    GrokConfig Config,
    string ModelName,
    IReadOnlyList<int> TokenIds,
    Func<int, string> Text,
    ActivationCache Cache,
    Tensor? Logits,
    Func<ActivationCache, LogitLensResult>? Lens,
    string? LensUnavailable = null);
