using GrokLens.Dumps;
using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Engine;

/// <summary>
/// The outcome of running one sequence: logits [T, V] on the CPU, the captured activations and, when
/// <see cref="RunOptions.Reduce"/> asked for it, the run's reductions.
/// </summary>
public sealed class RunResult(IReadOnlyList<int> tokenIds, Tensor logits, ActivationCache cache, ReductionPart? reduction = null) : IDisposable
{
    public IReadOnlyList<int> TokenIds { get; } = tokenIds;
    public Tensor Logits { get; } = logits;
    public ActivationCache Cache { get; } = cache;
    public ReductionPart? Reduction { get; } = reduction;

    public void Dispose()
    {
        Logits.Dispose();
        Cache.Dispose();
        Reduction?.Dispose();
    }
}
