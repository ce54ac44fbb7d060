using System.Text.RegularExpressions;
using GrokLens.Analysis.Experts;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Interventions;

namespace GrokLens.Tests.Docs;

/// <summary>
/// The C# examples of docs/experts.md: the code between "// example: NAME" and "// end example" below;
/// <see cref="TheDocShowsExactlyTheseExamples"/> checks that the page shows exactly these blocks.
/// </summary>
public class ExpertsDocsTests
{
    private static ExpertCorpus Tallies(LoadedModel model)
    {
        // example: experts-tallies
        var corpus = new ExpertCorpus([new PromptSubset("a", [[5, 17, 3, 88, 42], [9, 61, 23]]), new PromptSubset("b", [[70, 71, 72, 73]])]);
        var tallies = ExpertPass.Run(model, corpus, new ExpertPassOptions { Vocabulary = true });
        var load = ExpertLoadResult.From(tallies, model.Config.TopK);
        foreach (var layer in load.Subsets[0].Layers)
            Console.WriteLine($"layer {layer.Layer}: KL from uniform {layer.KlFromUniform:0.000} nats, shares {string.Join(" ", layer.Shares.Select(s => s.ToString("0.00")))}");
        var pairs = CoActivationResult.From("all", tallies.Total.Routing, model.Config.TopK);
        var vocabulary = VocabularySpecialisationResult.From("a", tallies.For("a"), model.Tokenizer, new VocabularyOptions { MinOccurrences = 1 });
        var scores = SteeringScoresResult.From("a", tallies.For("a").Routing, "b", tallies.For("b").Routing);
        using (var writer = new StringWriter()) load.Tables()[0].WriteCsv(writer);
        Console.WriteLine(ExpertJson.Serialize(scores.Steer(count: 2, strength: 4)));
        // end example
        Assert.Equal(3, load.Subsets.Count);
        Assert.Equal(2, pairs.Layers.Count);
        Assert.Equal(4, vocabulary.Layers.Count);
        return corpus;
    }

    private static void Runs(LoadedModel model, ExpertCorpus corpus)
    {
        // example: experts-runs
        using var cancel = new CancellationTokenSource();
        var progress = new Progress<ExpertProgress>(p => Console.WriteLine($"{p.Done}/{p.Total} runs: {p.Stage}"));
        var audit = CausalAudit.Run(model, corpus, new CausalAuditOptions { Layers = [1] }, progress, cancel.Token);
        Console.WriteLine($"ρ(use rate, loss change) = {audit.Overall.UseRate:0.00}");
        var topOnly = TopExpertOnly.Run(model, corpus, new TopExpertOptions { Layers = [0] }, progress, cancel.Token);
        var lens = ExpertLens.ForPrompt(model, [5, 17, 3, 88, 42], topTokens: 3);
        Intervention[] steer = [new RouterBias(Layer: 1, Expert: 2, Bias: 3.0)];
        var generation = ExpertSteering.Compare(model, [5, 17, 3], steer.Cast<RouterBias>().ToList(), new SamplingOptions { MaxNewTokens = 8, Seed = 1 });
        // end example
        Assert.Equal(8, audit.Experts.Count);
        Assert.NotNull(topOnly.Layers[0].LossChange);
        Assert.Equal(2, lens.Layers.Count);
        Assert.Equal(8, generation.SteeredTokens.Length);
    }

    [Fact]
    public void ExpertExamplesRun()
    {
        using var model = TestModels.RandomLoaded();
        Runs(model, Tallies(model));
    }

    [Fact]
    public void AnalysesStopWhenCancelled()
    {
        using var model = TestModels.RandomLoaded();
        using var cancel = new CancellationTokenSource();
        var corpus = new ExpertCorpus([new PromptSubset("a", [[5, 17, 3], [9, 61, 23], [1, 2]])]);
        int reports = 0;
        var progress = new SynchronousProgress(p =>
        {
            if (p.Done == 1) cancel.Cancel();
            reports++;
        });
        Assert.Throws<OperationCanceledException>(() => CausalAudit.Run(model, corpus, null, progress, cancel.Token));
        Assert.Equal(2, reports); // The start, then the first run; the second run never started.
    }

    /// <summary>Reports on the calling thread (<see cref="Progress{T}"/> posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<ExpertProgress> report) : IProgress<ExpertProgress>
    {
        public void Report(ExpertProgress value) => report(value);
    }

    [Fact]
    public void TheDocShowsExactlyTheseExamples()
    {
        var source = File.ReadAllText(Path.Combine(TestModels.RepositoryRoot(), "tests", "GrokLens.Tests", "Docs", "ExpertsDocsTests.cs"));
        var examples = Regex.Matches(source, @"// example: (?<name>[\w-]+)\r?\n(?<body>.*?)\r?\n\s*// end example", RegexOptions.Singleline)
            .Select(m => DocsExamplesTests.Dedent(m.Groups["body"].Value)).ToList();
        Assert.Equal(2, examples.Count);
        var text = File.ReadAllText(Path.Combine(TestModels.RepositoryRoot(), "docs", "experts.md")).Replace("\r\n", "\n");
        var shown = Regex.Matches(text, @"```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline).Select(m => m.Groups["code"].Value).ToList();
        Assert.Equal(examples.Order(), shown.Order());
    }
}
