using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Interventions;
using TorchSharp;

namespace GrokLens.Analysis;

/// <summary>Routing statistics per layer (<see cref="RoutingStatistics"/>) over a prompt or a set of prompts.</summary>
public static class RoutingAnalysis
{
    /// <summary>
    /// Runs each prompt (with the interventions, if any) and merges per layer: expert usage, mean router entropy,
    /// consecutive same-first-expert and top-k-overlap rates (pairs within each prompt) and expert co-activation.
    /// </summary>
    public static IReadOnlyList<RoutingStatistics> ForPrompts(IModelEngine model, IEnumerable<IReadOnlyList<int>> prompts,
        IReadOnlyList<Intervention>? interventions = null, CancellationToken cancellation = default)
    {
        var config = model.Config;
        var capture = Enumerable.Range(0, config.NumLayers)
            .SelectMany(l => new[] { HookPoints.Layer(l, HookPoints.TopKIndices), HookPoints.Layer(l, HookPoints.RouterProbs) }).ToList();
        var perLayer = Enumerable.Range(0, config.NumLayers).Select(_ => new List<RoutingStatistics>()).ToArray();
        foreach (var prompt in prompts)
        {
            cancellation.ThrowIfCancellationRequested();
            using var run = InterventionRunner.Run(model, prompt, interventions ?? [], new RunOptions { Capture = capture });
            for (int layer = 0; layer < config.NumLayers; layer++)
            {
                using var indices = run.Cache[HookPoints.Layer(layer, HookPoints.TopKIndices)].unsqueeze(0);
                using var probabilities = run.Cache[HookPoints.Layer(layer, HookPoints.RouterProbs)].unsqueeze(0);
                perLayer[layer].Add(RoutingStatistics.FromTopK(layer, indices, config.NumExperts, probabilities: probabilities));
            }
        }
        if (perLayer[0].Count == 0) throw new ArgumentException("give at least one prompt.");
        return perLayer.Select(RoutingStatistics.Merge).ToList();
    }

    public static IReadOnlyList<RoutingStatistics> ForPrompt(IModelEngine model, IReadOnlyList<int> tokenIds,
        IReadOnlyList<Intervention>? interventions = null) => ForPrompts(model, [tokenIds], interventions);
}
