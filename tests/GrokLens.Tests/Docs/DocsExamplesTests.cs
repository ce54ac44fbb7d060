using System.Text.RegularExpressions;
using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Interventions;

namespace GrokLens.Tests.Docs;

/// <summary>
/// The C# examples of docs/interventions.md and docs/analysis.md. Each example is the code between
/// "// example: NAME" and "// end example" below; <see cref="EveryDocExampleIsOneOfTheseTestedMethods"/> checks that the
/// docs show exactly these blocks, and the other tests run them on a small random model.
/// </summary>
public class DocsExamplesTests
{
    private static readonly string[] Documents = ["interventions.md", "analysis.md"];

    private static void Interventions(LoadedModel model, string folder)
    {
        // example: interventions
        int[] prompt = [5, 17, 3, 88, 42];
        Intervention[] experiment =
        [
            new AblateHeads(Layers: [1], Heads: [0, 2]),
            new BanExpert(Layer: 0, Expert: 3),
            new RenormaliseGates() { Enabled = false },
        ];
        using var run = InterventionRunner.Run(model, prompt, experiment);
        File.WriteAllText(Path.Combine(folder, "experiment.json"), InterventionJson.Serialize(experiment));
        var again = InterventionJson.Load(Path.Combine(folder, "experiment.json"));
        Console.WriteLine(string.Join("\n", again.Select(i => i.Describe())));
        // end example
        Assert.Equal(experiment.Select(i => i.Describe()), again.Select(i => i.Describe()));
        Assert.Equal(prompt.Length, run.Logits.shape[0]);
    }

    private static void RoutingPatching(LoadedModel model)
    {
        // example: routing-patching
        int[] clean = [5, 17, 3, 88, 42], corrupted = [5, 17, 60, 88, 42];
        Intervention[] patch = [new PatchRouting(Layers: [1], Part: RoutingPart.Indices)];
        using var source = model.Run(clean, new RunOptions { Capture = InterventionRunner.SourceHooks(model.Config, patch) });
        using var run = InterventionRunner.Run(model, corrupted, patch,
            RunOptions.CaptureOnly("blocks.*.moe.hook_router_probs"), source.Cache);
        foreach (var tie in NearTies.Find(run.Cache, model.Config.TopK, threshold: 0.05))
            Console.WriteLine($"layer {tie.Layer}, position {tie.Position}: experts {tie.ChosenExpert}/{tie.NextExpert} differ by {tie.Gap:0.000}");
        // end example
        Assert.Equal(clean.Length, run.Logits.shape[0]);
    }

    private static void Compare(LoadedModel model)
    {
        // example: compare
        int[] prompt = [5, 17, 3, 88, 42];
        var result = RunComparison.Compare(model, prompt, [new BanExpert(Layer: 0, Expert: 3)], new ComparisonOptions
        {
            Target = 11, OtherTarget = 40, GenerateTokens = 4, Sampling = new SamplingOptions { Seed = 1 },
        });
        Console.WriteLine($"KL(A‖B) {result.NextToken!.KlAToB:0.0000}, logit difference " +
                          $"{result.Target!.LogitDifferenceA:0.00} → {result.Target.LogitDifferenceB:0.00}");
        foreach (var change in result.Routing!.Changes)
            Console.WriteLine($"layer {change.Layer} position {change.PositionA}: [{string.Join(",", change.ExpertsA)}] → [{string.Join(",", change.ExpertsB)}]");
        // end example
        Assert.Equal(4, result.Generation!.B.Length);
    }

    private static void Attribution(LoadedModel model)
    {
        // example: attribution
        int[] prompt = [5, 17, 3, 88, 42];
        var parts = DirectLogitAttribution.Run(model, prompt, target: 11);
        Console.WriteLine($"logit {parts.Logit:0.000} = embedding {parts.Embedding:0.000} + attention {parts.Attention.Sum():0.000} + MoE {parts.Moe.Sum():0.000}");
        foreach (var expert in parts.Experts[1])
            Console.WriteLine($"layer 1 expert {expert.Expert} (gate {expert.Gate:0.00}): {expert.Contribution:+0.000;-0.000}");
        // end example
        Assert.Equal(parts.Logit, parts.SumOfParts, 3);
    }

    private static void PatchingSweep(LoadedModel model)
    {
        // example: patching-sweep
        int[] clean = [5, 17, 3, 88, 42], corrupted = [5, 17, 60, 88, 42];
        var metric = PatchingMetric.LogitDifference(token: 11, otherToken: 40);
        var progress = new Progress<PatchingProgress>(p => Console.Write($"\r{p.Done}/{p.Total}"));
        PatchingHeatmap residual = ActivationPatching.ResidualStream(model, clean, corrupted, metric, progress);
        PatchingHeatmap heads = ActivationPatching.Heads(model, clean, corrupted, metric);
        Console.WriteLine($"\nlayer 0, position 2 recovers {residual.Recovery[0][2]:P0}; layer 1 head 0 {heads.Recovery[1][0]:P0}");
        // end example
        Assert.Equal(1.0, residual.Recovery[0][2], 4);
    }

    private static void Statistics(LoadedModel model)
    {
        // example: statistics
        int[][] prompts = [[5, 17, 3, 88, 42], [9, 61, 23, 7]];
        foreach (var layer in RoutingAnalysis.ForPrompts(model, prompts))
            Console.WriteLine($"layer {layer.Layer}: same first expert {layer.SameFirstExpertRate:P1} " +
                              $"(random {RoutingStatistics.RandomSameFirstExpertRate(8):P1}), entropy {layer.MeanRouterEntropy:0.00}");
        var induction = HeadScoring.Induction(model, repeatLength: 10, sequences: 4);
        var previous = HeadScoring.PreviousToken(model, [5, 17, 3, 88, 42]);
        Console.WriteLine($"best induction head {induction.Best}, best previous-token head {previous.Best}");
        // end example
        Assert.Equal(2, previous.Scores.Length);
    }

    private static void Lens(LoadedModel model)
    {
        // example: logit-lens
        int[] prompt = [5, 17, 3, 88, 42];
        using var run = model.Run(prompt, new RunOptions { Capture = LogitLens.RequiredHooks(model.Config.NumLayers) });
        var lens = LogitLens.Compute(model, run.Cache, topK: 3);
        for (int stage = 0; stage < lens.Stages.Count; stage++)
            Console.WriteLine($"{lens.Stages[stage]}: {lens.Top[stage][^1][0].TokenId} ({lens.Top[stage][^1][0].Probability:P1})");
        // end example
        Assert.Equal(3, lens.Stages.Count);
    }

    [Fact]
    public void InterventionExamplesRun()
    {
        using var model = TestModels.RandomLoaded();
        using var folder = new TempDirectory();
        Interventions(model, folder.Path);
        RoutingPatching(model);
        Compare(model);
    }

    [Fact]
    public void AnalysisExamplesRun()
    {
        using var model = TestModels.RandomLoaded();
        Attribution(model);
        PatchingSweep(model);
        Statistics(model);
        Lens(model);
    }

    [Fact]
    public void EveryDocExampleIsOneOfTheseTestedMethods()
    {
        var source = File.ReadAllText(Path.Combine(TestModels.RepositoryRoot(), "tests", "GrokLens.Tests", "Docs", "DocsExamplesTests.cs"));
        var examples = Regex.Matches(source, @"// example: (?<name>[\w-]+)\r?\n(?<body>.*?)\r?\n\s*// end example", RegexOptions.Singleline)
            .ToDictionary(m => m.Groups["name"].Value, m => Dedent(m.Groups["body"].Value));
        Assert.Equal(7, examples.Count);
        var shown = new List<string>();
        foreach (var document in Documents)
        {
            var text = File.ReadAllText(Path.Combine(TestModels.RepositoryRoot(), "docs", document)).Replace("\r\n", "\n");
            foreach (Match block in Regex.Matches(text, @"```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline))
            {
                var code = block.Groups["code"].Value;
                Assert.True(examples.ContainsValue(code), $"{document} shows a C# block that is not a tested example:\n{code}");
                shown.Add(code);
            }
        }
        Assert.Equal(examples.Values.Order(), shown.Order());
    }

    internal static string Dedent(string body)
    {
        var lines = body.Replace("\r\n", "\n").Split('\n');
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }
}
