using GrokLens.Engine;
using GrokLens.Interventions;
using static TorchSharp.torch;

namespace GrokLens.Analysis.Experts;

/// <summary>What one pass over a corpus counts besides routing and loss.</summary>
public sealed record ExpertPassOptions
{
    /// <summary>Token-by-expert counts (vocabulary specialisation), by input and by predicted token.</summary>
    public bool Vocabulary { get; init; }

    /// <summary>Per-expert output norms (causal audit).</summary>
    public bool OutputNorms { get; init; }

    /// <summary>Cosines of the top expert's output with the MoE output (per-expert logit lens).</summary>
    public bool TopExpertCosines { get; init; }

    /// <summary>Interventions applied to every run (e.g. to count routing under steering).</summary>
    public IReadOnlyList<Intervention> Interventions { get; init; } = [];
}

/// <summary>
/// Runs every prompt of a corpus once and reduces each run into its subset's <see cref="ExpertTally"/>: nothing but
/// counts and sums is kept, so the corpus can be as large as time allows. Reports progress per prompt and stops at the
/// next prompt when cancelled (throwing <see cref="OperationCanceledException"/>). In this process the large
/// reductions are made by hook functions; on another engine (a cluster) the runs go through
/// <see cref="IModelEngine.RunMany"/> with the interventions as JSON and the observers read captures instead.
/// </summary>
public static class ExpertPass
{
    public static ExpertTallies Run(IModelEngine model, ExpertCorpus corpus, ExpertPassOptions options,
        IProgress<ExpertProgress>? progress = null, CancellationToken cancellation = default)
    {
        var counter = new ProgressCounter(progress, corpus.PromptCount);
        return Run(model, corpus, options, counter, "routing", cancellation);
    }

    internal static ExpertTallies Run(IModelEngine model, ExpertCorpus corpus, ExpertPassOptions options, ProgressCounter counter,
        string stage, CancellationToken cancellation)
    {
        corpus.CheckedFor(model);
        var config = model.Config;
        InterventionRunner.CreateHooks(config, options.Interventions); // Validates them before any work.
        var scales = model is LoadedModel loaded ? PostMoeNormScales(loaded) : null;
        ExpertTally NewTally() => new(config.NumLayers, config.NumExperts, options, () => new TopExpertCosines(config.NumLayers, scales));
        var subsets = new List<(string, ExpertTally)>();
        counter.Start(stage);
        foreach (var subset in corpus.Subsets)
        {
            var tally = NewTally();
            foreach (var (prompt, run) in Runs(model, subset.Prompts, tally, options.Interventions, cancellation))
            {
                using (run) Observe(tally, prompt, run);
                counter.RunDone(stage, prompt.Count);
            }
            subsets.Add((subset.Name, tally));
        }
        var total = NewTally();
        foreach (var (_, tally) in subsets) total.Add(tally);
        return new ExpertTallies(subsets, total);
    }

    /// <summary>
    /// Each prompt's run with the tally's captures: in this process one at a time with the observers' hooks after the
    /// interventions' (so they see the values the model goes on with); elsewhere through RunMany with their fallback captures.
    /// </summary>
    private static IEnumerable<(IReadOnlyList<int> Prompt, RunResult Run)> Runs(IModelEngine model, IReadOnlyList<IReadOnlyList<int>> prompts,
        ExpertTally tally, IReadOnlyList<Intervention> interventions, CancellationToken cancellation)
    {
        var config = model.Config;
        var observers = tally.Observers.ToList();
        var capture = RoutingCounts.RequiredHooks(config.NumLayers).Concat(observers.SelectMany(o => o.Captures)).Distinct().ToList();
        if (model is LoadedModel)
        {
            foreach (var prompt in prompts)
            {
                cancellation.ThrowIfCancellationRequested();
                var hooks = InterventionRunner.CreateHooks(config, interventions).Concat(observers.SelectMany(o => o.Hooks())).ToList();
                yield return (prompt, model.Run(prompt, new RunOptions { Capture = capture, Hooks = hooks }));
            }
            yield break;
        }
        var options = new RunOptions
        {
            Capture = capture.Concat(observers.SelectMany(o => o.FallbackCaptures)).Distinct().ToList(),
            Interventions = interventions,
        };
        foreach (var (prompt, run) in prompts.Zip(model.RunMany(prompts, options, cancellation))) yield return (prompt, run);
    }

    /// <summary>Adds one run to the tally.</summary>
    private static void Observe(ExpertTally tally, IReadOnlyList<int> prompt, RunResult run)
    {
        tally.Routing.Observe(run.Cache);
        foreach (var observer in tally.Observers) observer.EndRun(run.Cache);
        if (tally.ByInput is not null)
        {
            var choices = Enumerable.Range(0, tally.Routing.Layers).Select(l => RoutingCounts.Indices(run.Cache, l)).ToList();
            tally.ByInput.Observe(prompt, choices);
            tally.ByPredicted!.Observe(Predicted(run.Logits), choices);
        }
        tally.Loss += LossTally.Of(run.Logits, prompt);
        tally.Prompts++;
    }

    /// <summary>The model's most likely next token at each position.</summary>
    internal static int[] Predicted(Tensor logits)
    {
        using var argmax = logits.argmax(-1);
        return argmax.data<long>().ToArray().Select(id => (int)id).ToArray();
    }

    /// <summary>Each layer's post-MoE RMSNorm weight.</summary>
    internal static IReadOnlyList<Tensor> PostMoeNormScales(LoadedModel model) =>
        model.Model.layers.Select(layer => (Tensor)layer.postMoeNorm.weight).ToList();

    /// <summary>
    /// The corpus's loss with interventions applied (nothing captured; through RunMany, which a cluster spreads over its
    /// replicas), added to <paramref name="counter"/>'s progress.
    /// </summary>
    internal static LossTally Loss(IModelEngine model, ExpertCorpus corpus, IReadOnlyList<Intervention> interventions,
        ProgressCounter counter, string stage, CancellationToken cancellation)
    {
        InterventionRunner.CreateHooks(model.Config, interventions); // Validates them before any work.
        var prompts = corpus.Subsets.SelectMany(s => s.Prompts).ToList();
        var loss = new LossTally();
        counter.Start(stage);
        foreach (var (prompt, run) in prompts.Zip(model.RunMany(prompts, new RunOptions { Interventions = interventions }, cancellation)))
        {
            using (run) loss += LossTally.Of(run.Logits, prompt);
            counter.RunDone(stage, prompt.Count);
        }
        return loss;
    }
}
