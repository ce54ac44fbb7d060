using GrokLens.Analysis;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Interventions;
using GrokLens.Loading;
using GrokLens.Web.Compare;
using GrokLens.Web.Services;

namespace GrokLens.Web.Tests.Services;

/// <summary>Comparisons read from dumps: a downloaded comparison gives back the live one; partial, mismatched and multi-run dumps.</summary>
[Collection(ModelCollection.Name)]
public sealed class DumpCompareTests(ModelFixture fixture)
{
    private DumpService Dumps => fixture.DumpService();
    private CompareService Comparer => fixture.CompareService();

    private static readonly List<InterventionDraft> Drafts =
    [
        new(InterventionKind.BanExpert) { Layers = "1", Expert = "3" },
        new(InterventionKind.AblateHeads) { Layers = "0", Heads = "1" },
        new(InterventionKind.AblateHeads) { Layers = "2", Heads = "0", Enabled = false },
    ];

    private async Task<OpenedDump> DownloadAndOpenAsync(IReadOnlyList<DumpDownloadRun> runs, params string[] hooks)
    {
        var dumps = Dumps;
        await using var zip = await dumps.WriteZipAsync(new DumpDownloadRequest(runs, fixture.Model.Model, "test-session", DateTimeOffset.MaxValue), hooks);
        var bytes = new MemoryStream();
        await zip.CopyToAsync(bytes);
        bytes.Position = 0;
        return await dumps.OpenUploadAsync(bytes, bytes.Length, "comparison.zip");
    }

    [Fact]
    public async Task DownloadedComparisonOpensIntoTheLiveComparison()
    {
        var live = await Comparer.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, Drafts, GenerateTokens: 0));
        using var dump = await DownloadAndOpenAsync(live.Runs!, "*");

        // Two runs with prefixed tensors, the modified one recording exactly the enabled interventions.
        Assert.Equal(["baseline", "modified"], dump.Runs.Select(r => r.Id));
        Assert.All(dump.Runs[1].Hooks, h => Assert.StartsWith("modified/", h.Tensor));
        Assert.Equal("[]", dump.Runs[0].Interventions.ToJsonString());
        Assert.Equal(InterventionJson.Serialize([new BanExpert(1, 3), new AblateHeads([0], [1])]),
            InterventionJson.Serialize(DumpReader.Interventions(dump.Runs[1])));

        var fromDumps = await Comparer.CompareDumpsAsync(new DumpSide(dump, dump.Runs[0]), new DumpSide(dump, dump.Runs[1]));

        Assert.Empty(fromDumps.Result.MissingHooks);
        Assert.Equal(live.TokenLabels, fromDumps.TokenLabels);
        Assert.Equal(live.Descriptions, fromDumps.Descriptions);
        // The dump was made by running both sides again capturing every hook: same decisions, values to float noise.
        Assert.Equal(live.Result.Routing!.Changes.Select(c => (c.Layer, c.PositionA, string.Join(",", c.ExpertsB))),
            fromDumps.Result.Routing!.Changes.Select(c => (c.Layer, c.PositionA, string.Join(",", c.ExpertsB))));
        Assert.Equal(live.BaselineFirstExpert, fromDumps.BaselineFirstExpert);
        Assert.Equal(live.Result.NextToken!.KlAToB, fromDumps.Result.NextToken!.KlAToB, tolerance: 1e-5);
        Assert.Equal(live.Result.NextToken.TopB.Select(t => (t.TokenId, t.Text)), fromDumps.Result.NextToken.TopB.Select(t => (t.TokenId, t.Text)));
        for (int stage = 0; stage < live.Result.Residual!.Norm.Length; stage++)
            for (int t = 0; t < live.TokenLabels.Length; t++)
                Assert.Equal(live.Result.Residual.Norm[stage][t], fromDumps.Result.Residual!.Norm[stage][t], tolerance: 1e-3);
        for (int l = 0; l < live.AttentionDifference!.Length; l++)
            for (int h = 0; h < live.AttentionDifference[l].Length; h++)
                Assert.Equal(live.Result.Attention!.MaxAbs[l][h], fromDumps.Result.Attention!.MaxAbs[l][h], tolerance: 1e-5);
        Assert.Null(fromDumps.Runs); // nothing to run again: the comparison came from files
    }

    [Fact]
    public async Task APatchedComparisonIsWrittenWithItsSourceRun()
    {
        // Patching every position's embedding from the source prompt makes the modified run the source prompt's run.
        const string source = "the dog sat on the mat and the cat sat on the log";
        var drafts = new List<InterventionDraft> { new(InterventionKind.PatchActivation) { Hook = "blocks.0.hook_resid_pre", Heads = "", Positions = "" } };
        var live = await Comparer.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, drafts, source));
        using var dump = await DownloadAndOpenAsync(live.Runs!, "logits");

        var expected = await fixture.Model.RunAsync(model =>
        {
            using var run = model.Run(model.Encode(source));
            return run.Logits.data<float>().ToArray();
        });
        using var cache = dump.LoadCache(dump.Runs[1]);
        var actual = cache["logits"].data<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        Assert.All(expected.Zip(actual), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4 * (1 + Math.Abs(p.First)), $"{p.First} vs {p.Second}"));
        Assert.Contains("patch_activation", dump.Runs[1].Interventions.ToJsonString());
        // The source run is the third run of the dump.
        Assert.Equal(["baseline", "modified", "source"], dump.Runs.Select(r => r.Id));
        Assert.Equal(source, dump.Runs[2].Prompt);
        using var sourceCache = dump.LoadCache(dump.Runs[2]);
        Assert.Equal(expected, sourceCache["logits"].data<float>().ToArray());
    }

    [Fact]
    public async Task DumpsWithoutSomeHooksCompareWhatTheyHoldAndNameTheRest()
    {
        var live = await Comparer.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, Drafts, GenerateTokens: 0));
        using var dump = await DownloadAndOpenAsync(live.Runs!, "blocks.*.moe.hook_topk_indices");

        var view = await Comparer.CompareDumpsAsync(new DumpSide(dump, dump.Runs[0]), new DumpSide(dump, dump.Runs[1]));

        Assert.Equal(live.Result.Routing!.Changes.Select(c => (c.Layer, c.PositionA)), view.Result.Routing!.Changes.Select(c => (c.Layer, c.PositionA)));
        Assert.Null(view.Result.NextToken);
        Assert.Null(view.AttentionDifference);
        Assert.Null(view.Result.Residual);
        Assert.Equal("The next-token change needs hook logits in both runs, which the dumps do not hold.",
            view.Missing(RunComparison.NextTokenPart, "next-token change"));
        Assert.Contains("blocks.0.attn.hook_pattern", view.Missing(RunComparison.AttentionPart, "attention difference"));
        Assert.Contains("blocks.0.moe.hook_router_probs", view.Missing(RunComparison.NearTiesPart, "near-tie marking"));
        Assert.Null(view.Missing(RunComparison.RoutingPart, "routing diff"));
    }

    [Fact]
    public async Task WithoutLogitsTheLoadedDumpModelReadsThemFromTheLastResidual()
    {
        var live = await Comparer.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, Drafts, GenerateTokens: 0));
        using var dump = await DownloadAndOpenAsync(live.Runs!, "blocks.3.hook_resid_post");

        var view = await Comparer.CompareDumpsAsync(new DumpSide(dump, dump.Runs[0]), new DumpSide(dump, dump.Runs[1]));

        Assert.False(view.Result.MissingHooks.ContainsKey(RunComparison.NextTokenPart));
        Assert.Equal(live.Result.NextToken!.KlAToB, view.Result.NextToken!.KlAToB, 4);
        Assert.Equal(live.Result.NextToken.TopB.Select(t => t.TokenId), view.Result.NextToken.TopB.Select(t => t.TokenId));
        Assert.Equal(live.Result.KlPerPosition!, view.Result.KlPerPosition!, (x, y) => Math.Abs(x - y) < 1e-4);
    }

    [Fact]
    public async Task RunsOfDifferentLengthsOrModelsAreRefusedSayingWhy()
    {
        using var longer = await DownloadAndOpenAsync([new DumpDownloadRun("run0", fixture.TokenIds, null, [])], "logits");
        using var shorter = await DownloadAndOpenAsync([new DumpDownloadRun("run0", fixture.TokenIds.Take(5).ToArray(), null, [])], "logits");
        var lengths = await Assert.ThrowsAsync<DumpMismatchException>(() =>
            Comparer.CompareDumpsAsync(new DumpSide(longer, longer.Run), new DumpSide(shorter, shorter.Run)));
        Assert.Contains($"{fixture.TokenIds.Count} tokens", lengths.Message);
        Assert.Contains("5 tokens", lengths.Message);
        Assert.Contains("same number of tokens", lengths.Message);

        // A dump of another model (the grok1-mini fixture) with as many tokens.
        var other = new MemoryStream();
        using (var mini = ModelLoader.Load(Path.Combine(TestRepository.Root, "tests", "fixtures", "grok1-mini")))
        using (var run = mini.Run(Enumerable.Range(1, fixture.TokenIds.Count).ToArray(), RunOptions.CaptureOnly("blocks.0.attn.hook_pattern")))
            DumpWriter.WriteZip(other, mini, [DumpWriter.FromRun(mini, run)]);
        other.Position = 0;
        using var miniDump = await Dumps.OpenUploadAsync(other, other.Length, "mini.zip");
        var models = await Assert.ThrowsAsync<DumpMismatchException>(() =>
            Comparer.CompareDumpsAsync(new DumpSide(longer, longer.Run), new DumpSide(miniDump, miniDump.Run)));
        Assert.Contains("model 'grok-tiny'", models.Message);
        Assert.Contains($"model '{miniDump.Manifest.Model.Name}'", models.Message);
        Assert.Contains("weights fingerprint", models.Message);
    }

    [Fact]
    public async Task ExploreShowsAnotherRunOfTheSameDump()
    {
        var live = await Comparer.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, Drafts, GenerateTokens: 0));
        var baseline = await DownloadAndOpenAsync(live.Runs!, "*");
        Assert.Equal("baseline", baseline.Run.Id);

        using var modified = await Dumps.ShowRunAsync(baseline, "modified");

        Assert.Equal("modified", modified.Run.Id);
        foreach (var change in live.Result.Routing!.Changes)
        {
            Assert.Equal(change.ExpertsA, baseline.Result.ChosenExperts[change.Layer][change.PositionA]);
            Assert.Equal(change.ExpertsB, modified.Result.ChosenExperts[change.Layer][change.PositionB]);
        }
        // The reader moved to the new object: the old one is spent, closing it leaves the new one readable.
        baseline.Dispose();
        Assert.Throws<ObjectDisposedException>(() => baseline.Runs);
        Assert.NotEmpty(modified.HookValues("blocks.1.moe.hook_topk_indices"));
        await Assert.ThrowsAsync<ArgumentException>(() => Dumps.ShowRunAsync(modified, "missing"));
    }

    [Fact]
    public async Task AHostileRunIsRefusedWhenCompared()
    {
        // Both runs are well-formed files; run B names expert 100 of 8, which only the view check catches.
        const string hook = "blocks.1.moe.hook_topk_indices";
        var zip = await fixture.Model.RunAsync(model =>
        {
            using var run = model.Run(fixture.TokenIds, RunOptions.CaptureOnly(hook));
            using var bad = run.Cache[hook].add(100);
            var stream = new MemoryStream();
            DumpWriter.WriteZip(stream, model, [DumpWriter.FromRun(model, run, "good"),
                new DumpRunContent("bad", null, fixture.TokenIds, null, [], [(hook, bad)])]);
            return stream.ToArray();
        });
        using var dump = await Dumps.OpenUploadAsync(new MemoryStream(zip), zip.Length, "hostile.zip");

        var error = await Assert.ThrowsAsync<DumpFormatException>(() =>
            Comparer.CompareDumpsAsync(new DumpSide(dump, dump.Runs[0]), new DumpSide(dump, dump.Runs[1])));
        Assert.Contains("hostile.zip", error.Message);
        Assert.Contains($"hook '{hook}' names experts", error.Message);
        await Assert.ThrowsAsync<DumpFormatException>(() => Dumps.ShowRunAsync(dump, "bad"));
        Assert.Equal("good", dump.Run.Id); // the refused run left the dump as it was
    }
}
