using System.Diagnostics;
using GrokLens.Analysis.Experts;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Interventions;
using Microsoft.Extensions.Options;

namespace GrokLens.Web.Experts;

/// <summary>
/// What the Experts page asks of a model; the analyses themselves are GrokLens.Analysis.Experts. Every corpus prompt is
/// one queued piece of work on the model (its tally summed here), so a long analysis shares the workbench with other
/// sessions, reports progress after every prompt and stops at the next prompt when cancelled.
/// </summary>
public sealed class ExpertsService(IOptions<ExpertsOptions> options)
{
    /// <summary>What one pass counts: everything the page shows, so any subset can be browsed afterwards without running again.</summary>
    public static readonly ExpertPassOptions PassOptions = new() { Vocabulary = true, OutputNorms = true, TopExpertCosines = true };

    /// <summary>Books of the corpus package on this server (empty when it is not installed).</summary>
    public IReadOnlyList<string> Books()
    {
        var folder = options.Value.CorpusFolder;
        if (string.IsNullOrEmpty(folder) || !Directory.Exists(folder)) return [];
        if (Directory.Exists(Path.Combine(folder, "gutenberg")) && !Directory.EnumerateFiles(folder, "*.txt").Any())
            folder = Path.Combine(folder, "gutenberg");
        return Directory.EnumerateFiles(folder, "*.txt").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToList();
    }

    public Task<ExpertCorpus> BuildCorpusAsync(IExpertsModel model, CorpusRequest request, CancellationToken cancellation) =>
        model.RunAsync(loaded => request.Build(loaded, options.Value.CorpusFolder), cancellation);

    /// <summary>One pass over the corpus: routing, token counts, output norms, top-expert cosines and loss, per subset.</summary>
    public async Task<ExpertAnalysis> RunAsync(IExpertsModel model, ExpertCorpus corpus, IProgress<ExpertProgress>? progress,
        CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var subsets = new List<(string, ExpertTally)>();
        ExpertTally? total = null;
        int done = 0;
        long tokens = 0;
        progress?.Report(new ExpertProgress("routing", 0, corpus.PromptCount, 0, clock.Elapsed));
        foreach (var subset in corpus.Subsets)
        {
            ExpertTally? tally = null;
            foreach (var prompt in subset.Prompts)
            {
                var one = new ExpertCorpus([new PromptSubset(subset.Name, [prompt])]);
                var run = await model.RunAsync(loaded => ExpertPass.Run(loaded, one, PassOptions, null, cancellation), cancellation);
                var counted = run.Subsets[0].Tally;
                // The first run's tallies become the sums (the total is its own object in a pass's result).
                if (total is null) total = run.Total;
                else total.Add(counted);
                if (tally is null) tally = counted;
                else tally.Add(counted);
                tokens += prompt.Count;
                progress?.Report(new ExpertProgress("routing", ++done, corpus.PromptCount, tokens, clock.Elapsed));
            }
            subsets.Add((subset.Name, tally!));
        }
        return new ExpertAnalysis($"run on {model.Name}", model.Name, model.Config.TopK, corpus, new ExpertTallies(subsets, total!), model.Tokenizer);
    }

    /// <summary>
    /// The causal audit's bans: for each expert not measured yet, the corpus's loss with it banned (the router never picks
    /// it), one queued run per prompt. Results join <see cref="ExpertAnalysis.Banned"/> as each expert finishes.
    /// </summary>
    public async Task AuditAsync(IExpertsModel model, ExpertAnalysis analysis, IReadOnlyList<ExpertId> experts, IProgress<ExpertProgress>? progress,
        CancellationToken cancellation)
    {
        CheckSameModel(model, analysis);
        var todo = experts.Distinct().Where(e => !analysis.Banned.ContainsKey((e.Layer, e.Expert))).ToList();
        InterventionRunner.CreateHooks(model.Config, todo.Select(e => new BanExpert(e.Layer, e.Expert)).ToList()); // All valid before any work.
        await LossesAsync(model, analysis.Corpus, todo.Select(e => ($"ban {e}", (Intervention)new BanExpert(e.Layer, e.Expert))).ToList(),
            progress, (i, loss) => analysis.Banned[(todo[i].Layer, todo[i].Expert)] = loss, cancellation);
    }

    /// <summary>MoE Lens's top-expert-only loss for the given layers (k = 1 there, the router's gate kept).</summary>
    public async Task TopExpertAsync(IExpertsModel model, ExpertAnalysis analysis, IReadOnlyList<int> layers, IProgress<ExpertProgress>? progress,
        CancellationToken cancellation)
    {
        CheckSameModel(model, analysis);
        var todo = layers.Distinct().Where(l => !analysis.TopExpertLosses.ContainsKey(l)).ToList();
        InterventionRunner.CreateHooks(model.Config, todo.Select(l => new SetTopK(1, [l])).ToList());
        await LossesAsync(model, analysis.Corpus, todo.Select(l => ($"top expert only in layer {l}", (Intervention)new SetTopK(1, [l]))).ToList(),
            progress, (i, loss) => analysis.TopExpertLosses[todo[i]] = loss, cancellation);
    }

    private static async Task LossesAsync(IExpertsModel model, ExpertCorpus corpus, IReadOnlyList<(string Stage, Intervention Intervention)> experiments,
        IProgress<ExpertProgress>? progress, Action<int, LossTally> finished, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var prompts = corpus.Subsets.SelectMany(s => s.Prompts).ToList();
        int total = prompts.Count * experiments.Count, done = 0;
        long tokens = 0;
        for (int i = 0; i < experiments.Count; i++)
        {
            var (stage, intervention) = experiments[i];
            progress?.Report(new ExpertProgress(stage, done, total, tokens, clock.Elapsed));
            var loss = new LossTally();
            foreach (var prompt in prompts)
            {
                loss += await model.RunAsync(loaded =>
                {
                    cancellation.ThrowIfCancellationRequested();
                    using var run = loaded.Run(prompt, new RunOptions { Interventions = [intervention] });
                    return LossTally.Of(run.Logits, prompt);
                }, cancellation);
                tokens += prompt.Count;
                progress?.Report(new ExpertProgress(stage, ++done, total, tokens, clock.Elapsed));
            }
            finished(i, loss);
        }
    }

    /// <summary>The per-expert logit lens of one prompt (every layer, top 5 tokens per chosen expert).</summary>
    public async Task<ExpertLensResult> LensAsync(IExpertsModel model, ExpertAnalysis analysis, IReadOnlyList<int> prompt, CancellationToken cancellation)
    {
        CheckSameModel(model, analysis);
        return analysis.Lens = await model.RunAsync(engine => ExpertLens.ForPrompt(engine as LoadedModel ?? throw new InvalidOperationException(
            $"The per-expert lens reads the weights of '{engine.Name}', which runs on a cluster: open the model in this process to read it."),
            prompt, topTokens: 5), cancellation);
    }

    /// <summary>
    /// Steers the <paramref name="count"/> top-scored experts of set A against set B by ±<paramref name="strength"/> on
    /// the router logits and generates from the prompt without and with the biases (same seed).
    /// </summary>
    public async Task<SteeringComparison> SteerAsync(IExpertsModel model, ExpertAnalysis analysis, SteeringScoresResult scores, int count,
        double strength, IReadOnlyList<int> prompt, int newTokens, int seed, CancellationToken cancellation)
    {
        CheckSameModel(model, analysis);
        var biases = scores.Steer(count, strength);
        if (biases.Count == 0) throw new ArgumentException("No expert's activation rate differs between the two sets: nothing to steer.");
        var sampling = new SamplingOptions { MaxNewTokens = newTokens, Seed = seed }.Validated();
        return analysis.Steering = await model.RunAsync(loaded => ExpertSteering.Compare(loaded, prompt, biases, sampling, cancellation), cancellation);
    }

    /// <summary>The analysis as a GrokLens reductions dump (zip): the tallies and the corpus's prompts (the bytes it was opened from, for an opened dump).</summary>
    public async Task<byte[]> DumpAsync(IExpertsModel? model, ExpertAnalysis analysis, CancellationToken cancellation)
    {
        if (analysis.DumpBytes is { } bytes) return bytes;
        if (model is null) throw new InvalidOperationException("Saving an analysis as a dump needs the model that ran it.");
        CheckSameModel(model, analysis);
        return await model.RunAsync(loaded =>
        {
            using var zip = new MemoryStream();
            ExpertAnalysisDump.WriteZip(zip, loaded, analysis.Corpus, analysis.Tallies);
            return zip.ToArray();
        }, cancellation);
    }

    /// <summary>
    /// Reopens an analysis dump without a model. The prompts come back from its runs, so the on-demand measurements work
    /// again when <paramref name="model"/> has the dump's shape and vocabulary (it is then also the tokenizer shown).
    /// </summary>
    public static ExpertAnalysis OpenDump(byte[] zip, string fileName, Models.IWorkbenchModel? model)
    {
        using var reader = DumpReader.OpenZip(new MemoryStream(zip, writable: false), location: fileName);
        var tallies = ExpertAnalysisDump.Read(reader);
        var runs = reader.Runs.GroupBy(r => r.Id[..r.Id.LastIndexOf('.')]).ToDictionary(g => g.Key, g => g.Select(r => r.TokenIds).ToList());
        var corpus = new ExpertCorpus(tallies.Subsets.Select(s => new PromptSubset(s.Subset, runs[s.Subset])).ToList());
        var config = reader.Config;
        bool matches = model is not null && Matches(model.Config, config) && model.Name == reader.Manifest.Model.Name;
        return new ExpertAnalysis(fileName, reader.Manifest.Model.Name, config.TopK, corpus, tallies, matches ? model!.Tokenizer : null)
        {
            DumpBytes = zip,
        };
    }

    /// <summary>Whether measurements on <paramref name="model"/> may join this analysis (same model name and shape).</summary>
    public static bool CanMeasure(string? modelName, Model.GrokConfig? config, ExpertAnalysis analysis) =>
        modelName == analysis.ModelName && config is not null && config.NumLayers == analysis.Layers && config.NumExperts == analysis.Experts
        && config.TopK == analysis.TopK;

    private static void CheckSameModel(IExpertsModel model, ExpertAnalysis analysis)
    {
        if (!CanMeasure(model.Name, model.Config, analysis))
            throw new InvalidOperationException(
                $"This analysis was made with model '{analysis.ModelName}' ({analysis.Layers} layers × {analysis.Experts} experts); the loaded model is '{model.Name}'. Load that model to measure more.");
    }

    private static bool Matches(Model.GrokConfig a, Model.GrokConfig b) =>
        a.NumLayers == b.NumLayers && a.NumExperts == b.NumExperts && a.TopK == b.TopK && a.VocabSize == b.VocabSize;
}
