using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Engine;

/// <summary>The outcome of running one sequence: logits [T, V] on the CPU and the captured activations.</summary>
public sealed class RunResult(IReadOnlyList<int> tokenIds, Tensor logits, ActivationCache cache) : IDisposable
{
    public IReadOnlyList<int> TokenIds { get; } = tokenIds;
    public Tensor Logits { get; } = logits;
    public ActivationCache Cache { get; } = cache;

    public void Dispose()
    {
        Logits.Dispose();
        Cache.Dispose();
    }
}
