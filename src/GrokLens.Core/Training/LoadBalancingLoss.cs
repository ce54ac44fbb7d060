using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Training;

/// <summary>
/// The Switch-Transformer auxiliary loss for Grok's top-k router, collected through hook functions during a forward
/// pass: per layer E·Σₑ fₑ·Pₑ, where fₑ is expert e's share of the top-k assignments (no gradient) and Pₑ the mean
/// router probability of e (with gradient); the loss is the mean over layers. It is 1.0 when routing is uniform.
/// Tensors it keeps are moved to the dispose scope around the forward call, so wrap each step in one.
/// </summary>
public sealed class LoadBalancingLoss
{
    private readonly int experts;
    private readonly Tensor?[] meanProbabilities;
    private readonly Tensor?[] assignmentShares;

    public LoadBalancingLoss(GrokConfig config)
    {
        experts = config.NumExperts;
        meanProbabilities = new Tensor?[config.NumLayers];
        assignmentShares = new Tensor?[config.NumLayers];
        Hooks = new ForwardHooks();
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            int l = layer;
            Hooks.Add(HookPoints.Layer(l, HookPoints.RouterProbs), (probs, _) =>
            {
                meanProbabilities[l] = probs.mean([0, 1]).MoveToOuterDisposeScope();
                return null;
            });
            Hooks.Add(HookPoints.Layer(l, HookPoints.TopKIndices), (indices, _) =>
            {
                using var counts = bincount(indices.reshape(-1), null, experts);
                assignmentShares[l] = counts.to_type(ScalarType.Float32).div(indices.numel()).MoveToOuterDisposeScope();
                return null;
            });
        }
    }

    /// <summary>Pass these hooks to <see cref="GrokModel.Forward"/>.</summary>
    public ForwardHooks Hooks { get; }

    /// <summary>The loss of the last forward pass (a scalar with gradient); call once per forward.</summary>
    public Tensor Compute()
    {
        Tensor? total = null;
        for (int layer = 0; layer < meanProbabilities.Length; layer++)
        {
            var p = meanProbabilities[layer] ?? throw new InvalidOperationException("No router probabilities were seen: run a forward pass with these hooks first.");
            var f = assignmentShares[layer] ?? throw new InvalidOperationException("No top-k indices were seen.");
            var term = f.to(p.device).mul(p).sum().mul(experts);
            total = total is null ? term : total.add(term);
            meanProbabilities[layer] = null;
            assignmentShares[layer] = null;
        }
        return total!.div(meanProbabilities.Length);
    }
}
