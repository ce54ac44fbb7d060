using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Interventions;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// How a steered expert's routing moved: its activation rate on the prompt without and with the steering (the same
/// tokens), and over each generation (prompt + continuation, as it was generated: plain, then steered).
/// </summary>
public sealed record SteeredExpert(int Layer, int Expert, double Bias, double PromptRateBefore, double PromptRateAfter,
    double GenerationRateBefore, double GenerationRateAfter);

/// <summary>
/// A plain and a steered generation from the same prompt with the same sampling seed, and the routing change:
/// <see cref="ChangedChoices"/> is the share of (prompt token, layer) whose top-k set the steering changed.
/// </summary>
public sealed record SteeringComparison(IReadOnlyList<Intervention> Interventions, int[] Prompt, int Seed,
    int[] BaselineTokens, string? BaselineText, int[] SteeredTokens, string? SteeredText,
    double ChangedChoices, IReadOnlyList<SteeredExpert> Experts) : IExpertResult
{
    /// <summary>"steered_experts": one row per steered expert.</summary>
    public IReadOnlyList<ResultTable> Tables() =>
    [
        new("steered_experts", ["layer", "expert", "bias", "prompt_rate_before", "prompt_rate_after", "generation_rate_before", "generation_rate_after"],
            Experts.Select(e => new object?[]
            {
                e.Layer, e.Expert, e.Bias, e.PromptRateBefore, e.PromptRateAfter, e.GenerationRateBefore, e.GenerationRateAfter,
            }).ToList()),
    ];
}

public static class ExpertSteering
{
    /// <summary>Generates from the prompt without and with the biases (same sampling options and seed) and measures the routing change.</summary>
    public static SteeringComparison Compare(IModelEngine model, IReadOnlyList<int> prompt, IReadOnlyList<RouterBias> biases,
        SamplingOptions sampling, CancellationToken cancellation = default)
    {
        if (biases.Count == 0) throw new ArgumentException("give at least one router bias to steer with.");
        var config = model.Config;
        InterventionRunner.CreateHooks(config, biases); // Validates the biases before any work.
        var baseline = model.Generate(prompt, sampling, null, cancellation).Select(t => t.Id).ToArray();
        var steered = model.Generate(prompt, sampling, new GenerationRequest { Interventions = biases }, cancellation).Select(t => t.Id).ToArray();

        var (promptBefore, choicesBefore) = Routing(model, prompt, []);
        var (promptAfter, choicesAfter) = Routing(model, prompt, biases);
        var (generationBefore, _) = Routing(model, [.. prompt, .. baseline], []);
        var (generationAfter, _) = Routing(model, [.. prompt, .. steered], biases);
        long changed = 0;
        for (int layer = 0; layer < config.NumLayers; layer++)
            for (int t = 0; t < prompt.Count; t++)
                if (!choicesBefore[layer][t].SetEquals(choicesAfter[layer][t])) changed++;

        var experts = biases.Select(b => new SteeredExpert(b.Layer, b.Expert, b.Bias,
            promptBefore.Rate(b.Layer, b.Expert), promptAfter.Rate(b.Layer, b.Expert),
            generationBefore.Rate(b.Layer, b.Expert), generationAfter.Rate(b.Layer, b.Expert))).ToList();
        return new SteeringComparison(biases, prompt.ToArray(), sampling.Seed, baseline, model.Tokenizer?.Decode(baseline),
            steered, model.Tokenizer?.Decode(steered), (double)changed / (config.NumLayers * prompt.Count), experts);
    }

    /// <summary>The routing counts of one run and each layer's top-k set per token.</summary>
    private static (RoutingCounts Counts, HashSet<long>[][] Choices) Routing(IModelEngine model, IReadOnlyList<int> tokens, IReadOnlyList<Intervention> interventions)
    {
        var config = model.Config;
        using var run = model.Run(tokens, new RunOptions { Capture = RoutingCounts.RequiredHooks(config.NumLayers), Interventions = interventions });
        var counts = new RoutingCounts(config.NumLayers, config.NumExperts);
        counts.Observe(run.Cache);
        var choices = Enumerable.Range(0, config.NumLayers).Select(layer =>
        {
            var (indices, k) = RoutingCounts.Indices(run.Cache, layer);
            return Enumerable.Range(0, tokens.Count).Select(t => indices.Skip(t * k).Take(k).ToHashSet()).ToArray();
        }).ToArray();
        return (counts, choices);
    }
}
