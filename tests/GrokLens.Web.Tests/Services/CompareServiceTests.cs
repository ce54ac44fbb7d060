using GrokLens.Analysis;
using GrokLens.Interventions;
using GrokLens.Web.Compare;
using GrokLens.Web.Services;

namespace GrokLens.Web.Tests.Services;

[Collection(ModelCollection.Name)]
public sealed class CompareServiceTests(ModelFixture fixture)
{
    private CompareService Service => fixture.CompareService();
    private GrokLens.Model.GrokConfig Config => fixture.Model.Model.Config;

    [Fact]
    public async Task ComparisonMatchesTheLibraryAndItsAttentionDifferenceMatchesTheTwoRuns()
    {
        var drafts = new List<InterventionDraft>
        {
            new(InterventionKind.BanExpert) { Layers = "1", Expert = "3" },
            new(InterventionKind.AblateHeads) { Layers = "0", Heads = "1" },
            new(InterventionKind.AblateHeads) { Layers = "2", Heads = "0", Enabled = false },
        };
        var view = await Service.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, drafts, Target: "#5", GenerateTokens: 4, Seed: 7));
        var expected = await fixture.Model.RunAsync(model => RunComparison.Compare(model, fixture.TokenIds,
            [new BanExpert(1, 3), new AblateHeads([0], [1])],
            new ComparisonOptions { Target = 5, NearTieThreshold = WorkbenchOptions.DefaultNearTieThreshold, GenerateTokens = 4, Sampling = new() { Seed = 7 } }));

        Assert.Equal(expected.Routing!.Changes.Select(c => (c.Layer, c.PositionA)), view.Result.Routing!.Changes.Select(c => (c.Layer, c.PositionA)));
        Assert.Equal(expected.NextToken!.KlAToB, view.Result.NextToken!.KlAToB, 9);
        Assert.Equal(expected.Generation!.B.Select(t => t.Id), view.Result.Generation!.B.Select(t => t.Id));
        Assert.Equal(2, view.Descriptions.Length);
        // The lens value after the last layer is the final logit of the target (same norm and unembedding).
        Assert.Equal(expected.Target!.LogitA, view.TargetLensA![^1], 3);
        Assert.Equal(expected.Target!.LogitB, view.TargetLensB![^1], 3);
        // Attention difference per head: its largest |Δ| is the library's.
        for (int l = 0; l < view.AttentionDifference!.Length; l++)
            for (int h = 0; h < view.AttentionDifference[l].Length; h++)
                Assert.Equal(expected.Attention!.MaxAbs[l][h], view.AttentionDifference[l][h].SelectMany(r => r).Max(Math.Abs), 5);
        Assert.Equal(fixture.Result.ChosenExperts.Select(layer => layer.Select(t => t[0]).ToArray()), view.BaselineFirstExpert);
    }

    [Fact]
    public async Task PatchFromTheSourcePromptRestoresTheSourceRun()
    {
        // Patching every position's embedding from the source makes the modified run the source run.
        var drafts = new List<InterventionDraft> { new(InterventionKind.PatchActivation) { Hook = "blocks.0.hook_resid_pre", Heads = "", Positions = "" } };
        const string source = "the dog sat on the mat and the cat sat on the log";
        var view = await Service.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, drafts, source));
        var expected = await fixture.Model.RunAsync(model => RunComparison.Compare(model, new ComparedRun(fixture.TokenIds),
            new ComparedRun(model.Encode(source))));
        Assert.Null(view.Result.Generation);
        Assert.Equal(expected.NextToken!.KlAToB, view.Result.NextToken!.KlAToB, 6);
        await Assert.ThrowsAsync<PromptException>(() => Service.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, drafts)));
    }

    [Fact]
    public async Task SteeringVectorIsBuiltFromTheTwoPromptsWhenTheExperimentRuns()
    {
        var steering = new InterventionDraft(InterventionKind.Steering)
        {
            PromptA = "the dog", PromptB = "the cat", Hook = "blocks.1.hook_resid_post", Coefficient = 4,
        };
        Assert.Contains("type both prompts", Service.Validate([new InterventionDraft(InterventionKind.Steering)], Config)[0]);
        Assert.Equal([null], Service.Validate([steering], Config));
        var view = await Service.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, [steering], GenerateTokens: 0));
        var expected = await fixture.Model.RunAsync(model => SteeringVectors.MeanDifference(model, "blocks.1.hook_resid_post",
            [model.Encode("the dog")], [model.Encode("the cat")]));
        Assert.Equal(expected, steering.Vector);
        Assert.Equal([$"add 4 × a {expected.Length}-dim vector to blocks.1.hook_resid_post at all positions"], view.Descriptions);
        Assert.True(view.Result.NextToken!.KlAToB > 0);
        Assert.All(view.Result.Residual!.Norm[1], n => Assert.Equal(0, n)); // layer 0's output is before the hook
    }

    [Fact]
    public async Task HalfValidExperimentDoesNotRunAndNamesTheBadIntervention()
    {
        var drafts = new List<InterventionDraft>
        {
            new(InterventionKind.AblateHeads) { Layers = "0", Heads = "1" },
            new(InterventionKind.BanExpert) { Layers = "9", Expert = "0" },
        };
        Assert.Equal([null, "layer 9 does not exist: the model has layers 0…3."], Service.Validate(drafts, Config));
        var e = await Assert.ThrowsAsync<InterventionException>(() => Service.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, drafts)));
        Assert.Contains("#2: layer 9 does not exist", e.Message);
        drafts[1].Enabled = false;
        var view = await Service.CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, drafts, GenerateTokens: 0));
        Assert.Single(view.Descriptions);
    }

    [Fact]
    public void ExperimentSurvivesJsonAndTheAddressAsTypedAndTheStoreRefusesPathsOutsideItsFolder()
    {
        // Switched off and unreadable, switched on and refused by the model, a steering vector as its prompts, and a
        // kind without a form: all are saved as they stand.
        var drafts = new List<InterventionDraft>
        {
            new(InterventionKind.AblateHeads) { Layers = "1", Heads = "2, x", Enabled = false, Mode = AblationMode.Mean },
            new(InterventionKind.BanExpert) { Layers = "9", Expert = "4", Positions = "2" },
            new(InterventionKind.Steering) { PromptA = "the dog", PromptB = "the cat", Hook = "blocks.1.hook_resid_post", Coefficient = 2.5, Vector = [1f, 2f] },
            InterventionDraft.From(new ScaleActivation("blocks.0.hook_resid_post", 0.5) { Enabled = false }),
        };
        var experiment = Experiment.Of("a prompt", "source", " mat", null, drafts);
        drafts[1].Layers = "0"; // later edits do not change the experiment
        foreach (var back in new[] { Experiment.FromJson(experiment.ToJson()), Experiment.FromUrlToken(experiment.ToUrlToken()) })
        {
            Assert.Equal(("a prompt", "source", " mat"), (back.Prompt, back.SourcePrompt, back.Target));
            Assert.Equal(experiment.Drafts.Select(Describe), back.Drafts.Select(Describe));
            Assert.Equal(AblationMode.Mean, back.Drafts[0].Mode);
            Assert.Equal("9", back.Drafts[1].Layers);
            var steering = back.Drafts[2];
            Assert.Equal((InterventionKind.Steering, "the dog", "the cat", 2.5), (steering.Kind, steering.PromptA, steering.PromptB, steering.Coefficient));
            Assert.Null(steering.Vector); // built again from the prompts by the model that runs it
            Assert.Equal(InterventionJson.Serialize([drafts[3].Build()]), InterventionJson.Serialize([back.Drafts[3].Build()]));
        }

        // An experiment in the intervention schema (files saved before, or written by hand) reads into the same editor.
        var old = Experiment.FromJson("""{"prompt": "p", "interventions": [{"type": "ban_expert", "layer": 0, "expert": 4, "positions": [2], "enabled": false}]}""");
        Assert.Equal((InterventionKind.BanExpert, "0", "4", "2", false), (old.Drafts[0].Kind, old.Drafts[0].Layers, old.Drafts[0].Expert, old.Drafts[0].Positions, old.Drafts[0].Enabled));
        var wrong = Assert.Throws<InterventionException>(() => Experiment.FromJson("""{"prompt": "p", "interventions": [{"kind": "ablate_everything"}]}"""));
        Assert.Contains("unknown kind 'ablate_everything'; kinds: ablate_heads", wrong.Message);

        using var folder = new TempFolder();
        var store = new ExperimentStore(folder.Path);
        store.Save("my experiment_1", experiment);
        Assert.Equal(["my experiment_1"], store.List());
        Assert.Equal(experiment.ToJson(), store.Load("my experiment_1").ToJson());
        foreach (var bad in new[] { "../x", "..", "/etc/passwd", "a/b", ".hidden", "" })
            Assert.Throws<ArgumentException>(() => store.Save(bad, experiment));
        Assert.Throws<FileNotFoundException>(() => store.Load("missing"));
        Assert.Throws<InterventionException>(() => Experiment.FromUrlToken("not-base64!"));
    }

    private static string Describe(InterventionDraft draft) => $"{draft.Kind} {draft.Enabled} {draft.Describe()}";

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("groklens-experiments-").FullName;
        public void Dispose() => Directory.Delete(Path, true);
    }
}
