using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// A reduction of each expert's output size: per layer and expert, the L2 norms of <c>moe.hook_expert_out</c> (the
/// expert's output before its gate weight) summed over the tokens that chose it, and their number. In this process the
/// norms are taken by a hook as the layer runs, so the [T, k, D] outputs are never kept.
/// </summary>
public sealed class ExpertOutputNorms : IForwardObserver
{
    private readonly double[]?[] pending;

    public ExpertOutputNorms(int layers, int experts)
    {
        Layers = layers;
        Experts = experts;
        NormSum = Enumerable.Range(0, layers).Select(_ => new double[experts]).ToArray();
        Count = Enumerable.Range(0, layers).Select(_ => new long[experts]).ToArray();
        pending = new double[]?[layers];
    }

    public int Layers { get; }
    public int Experts { get; }

    /// <summary>[layer][expert]: Σ ‖expert output‖ over the tokens that chose the expert.</summary>
    public double[][] NormSum { get; }

    /// <summary>[layer][expert]: tokens that chose the expert.</summary>
    public long[][] Count { get; }

    /// <summary>Mean output norm when chosen, or null if the expert was never chosen.</summary>
    public double? MeanNorm(int layer, int expert) => Count[layer][expert] == 0 ? null : NormSum[layer][expert] / Count[layer][expert];

    public IReadOnlyList<string> Captures =>
        Enumerable.Range(0, Layers).Select(l => HookPoints.Layer(l, HookPoints.TopKIndices)).ToList();

    public IReadOnlyList<string> FallbackCaptures =>
        Enumerable.Range(0, Layers).Select(l => HookPoints.Layer(l, HookPoints.ExpertOut)).ToList();

    public IEnumerable<(string HookName, HookFunction Function)> Hooks() =>
        Enumerable.Range(0, Layers).Select(layer => (HookPoints.Layer(layer, HookPoints.ExpertOut), (HookFunction)((output, _) =>
        {
            pending[layer] = Norms(output);
            return null;
        })));

    /// <summary>The L2 norm of every (token, slot) row of expert outputs [.., k, D], flattened.</summary>
    private static double[] Norms(Tensor outputs)
    {
        using var scope = NewDisposeScope();
        return outputs.to_type(ScalarType.Float64).square().sum(-1).sqrt().cpu().contiguous().data<double>().ToArray();
    }

    public void EndRun(ActivationCache cache)
    {
        for (int layer = 0; layer < Layers; layer++)
        {
            var norms = pending[layer] ?? Norms(cache[HookPoints.Layer(layer, HookPoints.ExpertOut)]);
            var (indices, _) = RoutingCounts.Indices(cache, layer);
            if (indices.Length != norms.Length) throw new InvalidOperationException($"Layer {layer}: {norms.Length} expert outputs for {indices.Length} choices.");
            for (int i = 0; i < indices.Length; i++)
            {
                NormSum[layer][indices[i]] += norms[i];
                Count[layer][indices[i]]++;
            }
            pending[layer] = null;
        }
    }

    public void Add(ExpertOutputNorms other)
    {
        for (int layer = 0; layer < Layers; layer++)
            for (int e = 0; e < Experts; e++)
            {
                NormSum[layer][e] += other.NormSum[layer][e];
                Count[layer][e] += other.Count[layer][e];
            }
    }
}
