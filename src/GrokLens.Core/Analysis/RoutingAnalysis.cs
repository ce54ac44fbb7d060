using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Analysis;

/// <summary>
/// Routing statistics per layer (<see cref="RoutingStatistics"/>) over a prompt, a set of prompts (with
/// interventions) or batched windows of a dataset (the trainer's evaluation).
/// </summary>
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

    /// <summary>
    /// Expert shares and consecutive-token routing rates per layer on non-overlapping windows of
    /// <paramref name="sequenceLength"/> tokens from the start of <paramref name="ids"/> (at most about
    /// <paramref name="maxTokens"/>), run in batches without gradients. Padding (id = pad) is skipped.
    /// </summary>
    public static IReadOnlyList<RoutingStatistics> ForWindows(GrokModel model, IReadOnlyList<int> ids, int sequenceLength,
        int batchSize = 8, int maxTokens = 16384)
    {
        var windows = TokenWindows.NonOverlapping(ids, sequenceLength - 1, maxTokens);
        if (windows.Count == 0) throw new ArgumentException("No tokens to route.");
        var config = model.Config;
        var perLayer = Enumerable.Range(0, config.NumLayers).Select(_ => new List<RoutingStatistics>()).ToArray();
        bool wasTraining = model.training;
        model.eval();
        using var _ = no_grad();
        foreach (var group in TokenWindows.Batches(windows, batchSize))
        {
            using var scope = NewDisposeScope();
            var batch = tensor(group.SelectMany(w => w).ToArray(), [group.Count, group[0].Length]);
            using var hooks = new ForwardHooks(Enumerable.Range(0, config.NumLayers).Select(l => HookPoints.Layer(l, HookPoints.TopKIndices)));
            model.Forward(batch, hooks);
            var captured = hooks.TakeCaptured();
            var isToken = batch.ne(config.PadTokenId);
            for (int layer = 0; layer < config.NumLayers; layer++)
            {
                perLayer[layer].Add(RoutingStatistics.FromTopK(layer, captured[layer].Value, config.NumExperts, isToken));
                captured[layer].Value.Dispose();
            }
        }
        if (wasTraining) model.train();
        return perLayer.Select(RoutingStatistics.Merge).ToList();
    }
}
