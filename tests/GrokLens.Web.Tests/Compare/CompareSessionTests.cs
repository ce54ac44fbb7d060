using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Model;
using GrokLens.Web.Compare;
using GrokLens.Web.Models;
using GrokLens.Web.Services;

namespace GrokLens.Web.Tests.Compare;

/// <summary>The Compare page's state class driven as the page drives it, on the real grok-tiny.</summary>
[Collection(ModelCollection.Name)]
public sealed class CompareSessionTests(ModelFixture fixture) : IDisposable
{
    private readonly string experiments = Directory.CreateTempSubdirectory("groklens-compare-session-").FullName;
    private readonly List<(string Text, bool Error)> messages = [];

    private CompareSession NewSession()
    {
        var model = new SessionModel(fixture.Registry, Microsoft.Extensions.Options.Options.Create(new WorkbenchOptions { DefaultModel = TestRepository.ModelName }));
        var session = new CompareSession(fixture.CompareService(), new ExperimentStore(experiments), model) { Prompt = ModelFixture.Prompt, GenerateTokens = 0 };
        session.Message += (text, error) => messages.Add((text, error));
        return session;
    }

    /// <summary>A fresh session (another tab) opened on the address the first one left.</summary>
    private CompareSession Reopen(string address)
    {
        var query = System.Web.HttpUtility.ParseQueryString(new Uri("http://x" + address).Query);
        var session = NewSession();
        session.Restore(query["saved"], query["e"]);
        return session;
    }

    private static string[] Typed(CompareSession session) =>
        [.. session.Drafts.Select(d => $"{d.Kind} {d.Enabled} {string.Join("|", InterventionDraft.FieldsOf(d.Kind).Select(f => d[f]))}")];

    [Fact]
    public async Task SwitchedOffOrInvalidInterventionsNeitherStopTheRunNorSaveNorTheAddress()
    {
        var session = NewSession();
        session.Restore(null, null);
        session.Drafts.AddRange(
        [
            new InterventionDraft(InterventionKind.BanExpert) { Layers = "1", Expert = "3" },
            new InterventionDraft(InterventionKind.AblateHeads) { Layers = "x", Heads = "0", Enabled = false },  // does not parse
            new InterventionDraft(InterventionKind.BanExpert) { Layers = "9", Expert = "0", Enabled = false },   // no layer 9
        ]);
        session.Validate();
        Assert.Equal([false, true, true], session.Errors.Select(e => e is not null));
        Assert.True(session.CanRun);

        await session.RunAsync();
        Assert.Empty(messages);
        Assert.Equal(1, session.RunNumber);
        Assert.Single(session.View!.Descriptions);
        Assert.StartsWith("/compare?e=", session.Address);
        Assert.Equal(Typed(session), Typed(Reopen(session.Address!)));

        // A switched-on invalid entry stops the run, but not a save: the file keeps what was typed.
        session.Drafts[2].Enabled = true;
        session.Validate();
        Assert.False(session.CanRun);
        await session.RunAsync();
        Assert.Contains(messages, m => m.Error && m.Text.Contains("Fix the interventions marked in red"));
        Assert.Equal(1, session.RunNumber);
        session.SaveName = "half valid";
        session.Save();
        Assert.Equal("/compare?saved=half%20valid", session.Address);
        var reopened = Reopen(session.Address!);
        Assert.Equal(Typed(session), Typed(reopened));
        Assert.Equal(session.Errors, reopened.Errors);
    }

    [Fact]
    public async Task ASavedSteeringVectorComesBackEditableWithItsPromptsAndRunsTheSame()
    {
        var session = NewSession();
        session.Restore(null, null);
        session.Drafts.Add(new InterventionDraft(InterventionKind.Steering)
        {
            PromptA = "the dog", PromptB = "the cat", Hook = "blocks.1.hook_resid_post", Coefficient = 4,
        });
        await session.RunAsync();
        var vector = session.Drafts[0].Vector!;
        session.SaveName = "steer";
        session.Save();

        var reopened = Reopen(session.Address!);
        var steering = Assert.Single(reopened.Drafts);
        Assert.Equal((InterventionKind.Steering, "the dog", "the cat", "blocks.1.hook_resid_post", 4.0),
            (steering.Kind, steering.PromptA, steering.PromptB, steering.Hook, steering.Coefficient));
        steering.PromptB = "the bird"; // editable: a typed field, not a fixed vector
        steering.PromptB = "the cat";
        await reopened.RunAsync();
        Assert.Equal(vector, steering.Vector);
        Assert.Equal(session.View!.Result.NextToken!.KlAToB, reopened.View!.Result.NextToken!.KlAToB);
    }

    [Fact]
    public async Task EachSideRunsOncePerComparison()
    {
        var counting = new CountingIntervention();
        var drafts = new List<InterventionDraft> { new(InterventionKind.Loaded) { Fixed = counting } };
        await fixture.CompareService().CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, drafts, GenerateTokens: 0));
        Assert.Equal(1, counting.Runs.Value);   // the modified side's forward pass, nothing more

        counting.Runs.Value = 0;
        await fixture.CompareService().CompareAsync(fixture.Model, new CompareRequest(ModelFixture.Prompt, drafts, GenerateTokens: 3));
        Assert.Equal(2, counting.Runs.Value);   // the forward pass and the generation
    }

    [Fact]
    public async Task SwitchingTheSessionsModelDropsALiveComparison()
    {
        var session = NewSession();
        session.Restore(null, null);
        await session.RunAsync();
        Assert.NotNull(session.View);
        session.ModelSwitched();
        Assert.Null(session.View);
    }

    /// <summary>An intervention that changes nothing and counts the runs it is applied to (hooks are created once per run).</summary>
    private sealed record CountingIntervention : Intervention
    {
        public System.Runtime.CompilerServices.StrongBox<int> Runs { get; } = new(0);
        public override string Describe() => "count the runs";
        public override void Validate(GrokConfig config) { }

        public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context)
        {
            Runs.Value++;
            return [];
        }
    }

    public void Dispose() => Directory.Delete(experiments, recursive: true);
}
