using GrokLens.Analysis.Experts;
using GrokLens.Dumps;

namespace GrokLens.Tests.Analysis.Experts;

public class ExpertAnalysisDumpTests
{
    [Fact]
    public void EveryAnalysisFromTalliesIsTheSameFromTheReopenedDump()
    {
        using var model = TestModels.RandomLoaded();
        var corpus = new ExpertCorpus([new PromptSubset("a b/c", ExpertLoadTests.SetA), new PromptSubset("b", ExpertLoadTests.SetB)]);
        var options = new ExpertPassOptions { Vocabulary = true, OutputNorms = true, TopExpertCosines = true };
        var tallies = ExpertPass.Run(model, corpus, options);

        using var zip = new MemoryStream();
        var manifest = ExpertAnalysisDump.WriteZip(zip, model, corpus, tallies);
        Assert.Equal(DumpFormat.ReductionsKind, manifest.Kind);
        Assert.Equal(corpus.PromptCount, manifest.Runs.Count);
        Assert.Equal("a_b_c.0", manifest.Runs[0].Id);
        Assert.Equal(ExpertLoadTests.SetB[1], manifest.Runs[^1].TokenIds);
        Assert.Equal(tallies.Total.Routing.TopK[1], manifest.Reductions!.Routing[1].ExpertCounts);
        zip.Position = 0;
        using var reader = DumpReader.OpenZip(zip);
        var back = ExpertAnalysisDump.Read(reader);

        Assert.Equal(["a_b_c", "b"], back.Subsets.Select(s => s.Subset));
        string Json<T>(T value) => ExpertJson.Serialize(value);
        Assert.Equal(Json(ExpertLoadResult.From(tallies, 2).Subsets.Select(s => s.Layers)), Json(ExpertLoadResult.From(back, 2).Subsets.Select(s => s.Layers)));
        Assert.Equal(Json(CoActivationResult.From("all", tallies.Total.Routing, 2)), Json(CoActivationResult.From("all", back.Total.Routing, 2)));
        Assert.Equal(Json(VocabularySpecialisationResult.From("b", tallies.Subsets[1].Tally, null, new VocabularyOptions { MinOccurrences = 1 })),
            Json(VocabularySpecialisationResult.From("b", back.For("b"), null, new VocabularyOptions { MinOccurrences = 1 })));
        Assert.Equal(Json(SteeringScoresResult.From("a", tallies.Subsets[0].Tally.Routing, "b", tallies.Subsets[1].Tally.Routing)),
            Json(SteeringScoresResult.From("a", back.Subsets[0].Tally.Routing, "b", back.Subsets[1].Tally.Routing)));
        var banned = new Dictionary<(int, int), LossTally> { [(1, 3)] = new(12.5, 20) };
        Assert.Equal(Json(CausalAudit.From("all", tallies.Total, banned)), Json(CausalAudit.From("all", back.Total, banned)));
        Assert.Equal(Json(TopExpertOnly.From("all", tallies.Total, new Dictionary<int, LossTally>(), null, false)),
            Json(TopExpertOnly.From("all", back.Total, new Dictionary<int, LossTally>(), null, false)));
        Assert.Equal(tallies.Total.Loss, back.Total.Loss);
        Assert.Equal(tallies.Total.Prompts, back.Total.Prompts);
    }

    [Fact]
    public void AnOrdinaryDumpIsNotTakenForAnExpertAnalysis()
    {
        using var model = TestModels.RandomLoaded();
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "plain.zip");
        using (var run = model.Run([5, 6, 7], GrokLens.Engine.RunOptions.CaptureOnly("blocks.0.moe.hook_topk_indices")))
            DumpWriter.WriteZipFile(path, model, [DumpWriter.FromRun(model, run)]);
        using var reader = DumpReader.Open(path);
        var error = Assert.Throws<ArgumentException>(() => ExpertAnalysisDump.Read(reader));
        Assert.Contains("not an expert analysis dump", error.Message);
    }
}
