using System.Text.Json;
using GrokLens.Analysis.Experts;
using GrokLens.Interventions;
using GrokLens.Loading;

namespace GrokLens.Tests.Cli;

public class ExpertsCommandTests
{
    private static readonly int[][] SetA = [[243, 263, 387, 486, 20, 76], [421, 485, 129, 161, 445, 218, 142]];
    private static readonly int[][] SetB = [[424, 133, 211, 330, 282], [46, 17, 443, 386, 429, 276, 12, 9]];

    /// <summary>Two JSONL prompt files of token ids (the fixture has no tokenizer).</summary>
    private static (string A, string B) PromptFiles(TempDirectory folder)
    {
        string Write(string name, int[][] prompts)
        {
            var path = Path.Combine(folder.Path, name + ".jsonl");
            File.WriteAllLines(path, prompts.Select(p => JsonSerializer.Serialize(new { token_ids = p })));
            return path;
        }
        return (Write("alpha", SetA), Write("beta", SetB));
    }

    private static ExpertCorpus Corpus() => new([new PromptSubset("alpha", SetA), new PromptSubset("beta", SetB)]);

    [Fact]
    public void LoadPrintsTheLibrarysSharesAsJsonAndEveryTableAsCsv()
    {
        using var folder = new TempDirectory();
        var (a, b) = PromptFiles(folder);
        var result = CliOutput.Run("experts", "load", "-m", TestModels.FixtureDirectory, "--prompts", a, "--prompts", "second=" + b);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("4/4 runs", result.Error); // The progress line.

        using var model = ModelLoader.Load(TestModels.FixtureDirectory);
        var expected = ExpertLoadResult.From(ExpertPass.Run(model, Corpus(), new ExpertPassOptions()), 2);
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal("load", root.GetProperty("analysis").GetString());
        Assert.Equal(["alpha", "second"], root.GetProperty("corpus").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        var subsets = root.GetProperty("result").GetProperty("subsets");
        Assert.Equal(["alpha", "second", "all"], subsets.EnumerateArray().Select(s => s.GetProperty("subset").GetString()));
        for (int s = 0; s < 3; s++)
            for (int layer = 0; layer < 2; layer++)
            {
                var row = subsets[s].GetProperty("layers")[layer];
                Assert.Equal(expected.Subsets[s].Layers[layer].Counts, row.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()));
                Assert.Equal(expected.Subsets[s].Layers[layer].KlFromUniform, row.GetProperty("kl_from_uniform").GetDouble(), 12);
            }

        var csv = Path.Combine(folder.Path, "tables");
        var tables = CliOutput.Run("experts", "load", "-m", TestModels.FixtureDirectory, "--prompts", a, "--prompts", b, "--format", "csv", "--out", csv);
        Assert.True(tables.ExitCode == 0, tables.ToString());
        var lines = File.ReadAllLines(Path.Combine(csv, "expert_load.csv"));
        Assert.Equal("subset,layer,expert,assignments,share,top1_count,top1_share,uniform_share", lines[0]);
        Assert.Equal(1 + 3 * 2 * 8, lines.Length);
        Assert.True(File.Exists(Path.Combine(csv, "expert_load_summary.csv")));
    }

    [Fact]
    public void AuditCoActivationVocabularyAndTopExpertMatchTheLibrary()
    {
        using var folder = new TempDirectory();
        var (a, b) = PromptFiles(folder);
        using var model = ModelLoader.Load(TestModels.FixtureDirectory);

        var audit = CliOutput.Run("experts", "audit", "-m", TestModels.FixtureDirectory, "--prompts", a, "--prompts", b, "--layers", "1", "--experts", "2,5");
        Assert.True(audit.ExitCode == 0, audit.ToString());
        var expectedAudit = CausalAudit.Run(model, Corpus(), new CausalAuditOptions { Layers = [1], Experts = [2, 5] });
        using (var json = JsonDocument.Parse(audit.Out))
        {
            var rows = json.RootElement.GetProperty("result").GetProperty("experts");
            Assert.Equal(2, rows.GetArrayLength());
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(expectedAudit.Experts[i].LossChange, rows[i].GetProperty("loss_change").GetDouble(), 12);
                Assert.Equal(expectedAudit.Experts[i].UseRate, rows[i].GetProperty("use_rate").GetDouble(), 12);
            }
        }

        var co = CliOutput.Run("experts", "coactivation", "-m", TestModels.FixtureDirectory, "--prompts", a, "--prompts", b, "--subset", "beta",
            "--format", "csv");
        Assert.True(co.ExitCode == 0, co.ToString());
        var expectedCo = CoActivationResult.From("beta", ExpertPass.Run(model, Corpus(), new ExpertPassOptions()).For("beta").Routing, 2);
        Assert.Equal(expectedCo.Tables()[0].ToCsv(), co.Out);

        var vocabulary = CliOutput.Run("experts", "vocabulary", "-m", TestModels.FixtureDirectory, "--prompts", a, "--prompts", b,
            "--min-occurrences", "1", "--format", "csv", "--table", "vocabulary_summary");
        Assert.True(vocabulary.ExitCode == 0, vocabulary.ToString());
        Assert.Equal(1 + 2 * 2, vocabulary.Out.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);

        var top = CliOutput.Run("experts", "top-expert", "-m", TestModels.FixtureDirectory, "--prompts", a, "--layers", "0", "--no-all-layers");
        Assert.True(top.ExitCode == 0, top.ToString());
        var expectedTop = TopExpertOnly.Run(model, new ExpertCorpus([new PromptSubset("alpha", SetA)]), new TopExpertOptions { Layers = [0], AllLayers = false });
        using (var json = JsonDocument.Parse(top.Out))
        {
            var layer0 = json.RootElement.GetProperty("result").GetProperty("layers")[0];
            Assert.Equal(expectedTop.Layers[0].LossChange!.Value, layer0.GetProperty("loss_change").GetDouble(), 12);
            Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("result").GetProperty("layers")[1].GetProperty("loss_change").ValueKind);
        }
    }

    [Fact]
    public void SteerSavesTheBiasesAsAnExperimentAndComparesGenerations()
    {
        using var folder = new TempDirectory();
        var (a, b) = PromptFiles(folder);
        var saved = Path.Combine(folder.Path, "steer.json");
        var result = CliOutput.Run("experts", "steer", "-m", TestModels.FixtureDirectory, "--prompts", a, "--prompts", b, "--top", "3",
            "--strength", "5", "--save-interventions", saved, "-t", "5,6,7", "-n", "5", "--seed", "2", "--format", "text");
        Assert.True(result.ExitCode == 0, result.ToString());

        using var model = ModelLoader.Load(TestModels.FixtureDirectory);
        var tallies = ExpertPass.Run(model, Corpus(), new ExpertPassOptions());
        var scores = SteeringScoresResult.From("alpha", tallies.For("alpha").Routing, "beta", tallies.For("beta").Routing);
        var biases = InterventionJson.Load(saved);
        Assert.Equal(InterventionJson.Serialize(scores.Steer(3, 5)), InterventionJson.Serialize(biases));
        var comparison = ExpertSteering.Compare(model, [5, 6, 7], biases.Cast<RouterBias>().ToList(),
            new GrokLens.Generation.SamplingOptions { MaxNewTokens = 5, Temperature = 0.8, Seed = 2, StopAtEos = false });
        Assert.Contains($"baseline (seed 2): {string.Join(" ", comparison.BaselineTokens)}", result.Out);
        Assert.Contains($"steered  (seed 2): {string.Join(" ", comparison.SteeredTokens)}", result.Out);
        Assert.Contains("top-k sets changed", result.Out);
    }

    [Fact]
    public void LensReadsAPromptAsCsv()
    {
        var result = CliOutput.Run("experts", "lens", "-m", TestModels.FixtureDirectory, "-t", "5,6,7", "--layers", "1", "--top", "2", "--format", "csv");
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Out.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("layer,position,token_id,piece,slot,expert,gate,rank,lens_token_id", lines[0]);
        Assert.Equal(1 + 3 * (2 + 1) * 2, lines.Length); // 3 positions × (2 slots + the whole MoE) × 2 ranks
        Assert.All(lines.Skip(1), line => Assert.StartsWith("1,", line));
    }

    [Fact]
    public void ASavedDumpGivesTheSameAnalysesWithoutTheModel()
    {
        using var folder = new TempDirectory();
        var (a, b) = PromptFiles(folder);
        var dump = Path.Combine(folder.Path, "analysis.zip");
        var live = CliOutput.Run("experts", "vocabulary", "-m", TestModels.FixtureDirectory, "--prompts", a, "--prompts", b, "--min-occurrences", "1",
            "--dump", dump);
        Assert.True(live.ExitCode == 0, live.ToString());
        var reopened = CliOutput.Run("experts", "vocabulary", "--from-dump", dump, "--min-occurrences", "1");
        Assert.True(reopened.ExitCode == 0, reopened.ToString());
        Assert.Equal(live.Out, reopened.Out);
        var load = CliOutput.Run("experts", "load", "--from-dump", dump, "--format", "csv");
        var loadLive = CliOutput.Run("experts", "load", "-m", TestModels.FixtureDirectory, "--prompts", a, "--prompts", b, "--format", "csv");
        Assert.Equal(loadLive.Out, load.Out);
        var both = CliOutput.Run("experts", "load", "--from-dump", dump, "--prompts", a);
        Assert.Equal(2, both.ExitCode);
    }

    [Fact]
    public void SaturationReadsARoutingHistory()
    {
        using var folder = new TempDirectory();
        var history = GrokLens.Tests.Analysis.Experts.RouterSaturationTests.WriteHistory(Path.Combine(folder.Path, "history"), out _);
        var result = CliOutput.Run("experts", "saturation", "--history", history.Folder, "--format", "csv");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(RouterSaturationResult.From(history).Tables()[0].ToCsv(), result.Out);
        var missing = CliOutput.Run("experts", "saturation", "--history", Path.Combine(folder.Path, "nothing"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("index.json", missing.Error);
        var step = CliOutput.Run("experts", "saturation", "--history", history.Folder, "--reference-step", "7");
        Assert.Equal(1, step.ExitCode);
        Assert.Contains("not recorded", step.Error);
    }

    [Fact]
    public void BadCorpusOptionsAreClearErrors()
    {
        using var folder = new TempDirectory();
        var (a, _) = PromptFiles(folder);
        var both = CliOutput.Run("experts", "load", "-m", TestModels.FixtureDirectory, "--prompts", a, "--books", "all");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("--prompts", both.Error);
        var neither = CliOutput.Run("experts", "load", "-m", TestModels.FixtureDirectory);
        Assert.Equal(2, neither.ExitCode);
        var table = CliOutput.Run("experts", "load", "-m", TestModels.FixtureDirectory, "--prompts", a, "--format", "csv", "--table", "nope");
        Assert.Equal(2, table.ExitCode);
        Assert.Contains("expert_load_summary", table.Error);
        var layers = CliOutput.Run("experts", "audit", "-m", TestModels.FixtureDirectory, "--prompts", a, "--layers", "7");
        Assert.Equal(1, layers.ExitCode);
        Assert.Contains("layer 7 does not exist", layers.Error);
        var steerOne = CliOutput.Run("experts", "steer", "-m", TestModels.FixtureDirectory, "--prompts", a);
        Assert.Equal(2, steerOne.ExitCode);
        Assert.Contains("two prompt sets", steerOne.Error);
        var tooLong = Path.Combine(folder.Path, "long.jsonl");
        File.WriteAllText(tooLong, JsonSerializer.Serialize(new { token_ids = new[] { 1, 999 } }));
        var text = Path.Combine(folder.Path, "text.jsonl");
        File.WriteAllText(text, JsonSerializer.Serialize(new { prompt = "hello" }));
        var noTokenizer = CliOutput.Run("experts", "load", "-m", TestModels.FixtureDirectory, "--prompts", text);
        Assert.Equal(1, noTokenizer.ExitCode);
        Assert.Contains("has no tokenizer", noTokenizer.Error);
        var outside = CliOutput.Run("experts", "load", "-m", TestModels.FixtureDirectory, "--prompts", tooLong);
        Assert.Equal(1, outside.ExitCode);
        Assert.Contains("prompt 1", outside.Error);
        Assert.Contains("outside the vocabulary", outside.Error);
    }
}
