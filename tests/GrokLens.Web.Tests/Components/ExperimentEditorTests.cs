using Bunit;
using GrokLens.Web.Compare;
using GrokLens.Web.Components.Compare;
using GrokLens.Web.Services;

namespace GrokLens.Web.Tests.Components;

/// <summary>The experiment editor, validated against the real grok-tiny (4 layers, 8 heads, 8 experts) like the page does.</summary>
[Collection(ModelCollection.Name)]
public sealed class ExperimentEditorTests(ModelFixture fixture) : MudTestContext
{
    private IRenderedComponent<ExperimentEditor> RenderEditor(List<InterventionDraft> drafts)
    {
        var service = fixture.CompareService();
        IRenderedComponent<ExperimentEditor>? editor = null;
        editor = Render<ExperimentEditor>(p => p
            .Add(e => e.Drafts, drafts)
            .Add(e => e.Errors, service.Validate(drafts, fixture.Model.Model.Config))
            .Add(e => e.OnChanged, () => editor!.Render(p2 => p2.Add(e => e.Errors, service.Validate(drafts, fixture.Model.Model.Config)))));
        return editor;
    }

    [Fact]
    public async Task AddedInterventionShowsItsDescriptionAndCanBeSwitchedOffAndDeleted()
    {
        var drafts = new List<InterventionDraft>();
        var editor = RenderEditor(drafts);
        Assert.Single(editor.FindAll("#experiment-empty"));

        await editor.InvokeAsync(() => editor.Instance.Add(InterventionKind.AblateHeads));
        await editor.InvokeAsync(() => editor.Instance.Add(InterventionKind.BanExpert));
        Assert.Equal(2, editor.FindAll(".intervention").Count);
        Assert.Equal(["zero-ablate head 0 of layer 0 at all positions", "ban expert 0 of layer 0 (next-best takes its slot) at all positions"],
            editor.FindAll(".intervention-description").Select(d => d.TextContent.Trim()));

        // MudBlazor inputs finish their change handlers asynchronously, so each check waits for the re-render.
        editor.Find(".intervention[data-index='0'] .field-heads input").Change("2, 5");
        editor.WaitForAssertion(() =>
        {
            Assert.Equal("zero-ablate heads 2, 5 of layer 0 at all positions", editor.FindAll(".intervention-description")[0].TextContent.Trim());
            Assert.Equal(["2, 5"], drafts.Take(1).Select(d => d.Heads));
        });

        editor.Find(".intervention[data-index='0'] .intervention-enabled input").Change(false);
        editor.WaitForAssertion(() =>
        {
            Assert.False(drafts[0].Enabled);
            Assert.Contains("disabled", editor.Find(".intervention[data-index='0']").ClassName);
        });
        Assert.False(drafts[0].Build().Enabled);

        editor.Find(".intervention[data-index='0'] .intervention-delete").Click();
        editor.WaitForAssertion(() =>
        {
            Assert.Single(drafts);
            Assert.Equal(InterventionKind.BanExpert, drafts[0].Kind);
            Assert.Empty(editor.FindAll(".intervention-error"));
        });
    }

    [Fact]
    public async Task InvalidTargetIsExplainedNextToItsIntervention()
    {
        var drafts = new List<InterventionDraft>();
        var editor = RenderEditor(drafts);
        await editor.InvokeAsync(() => editor.Instance.Add(InterventionKind.AblateExpert));
        await editor.InvokeAsync(() => editor.Instance.Add(InterventionKind.AblateHeads));

        editor.Find(".intervention[data-index='1'] .field-layers input").Change("9");
        editor.WaitForAssertion(() =>
        {
            Assert.Single(editor.FindAll(".intervention-error"));
            Assert.Contains("layer 9 does not exist: the model has layers 0…3.", editor.Find(".intervention[data-index='1'] .intervention-error").TextContent);
        });

        editor.Find(".intervention[data-index='0'] .field-expert input").Change("x");
        editor.WaitForAssertion(() =>
            Assert.Contains("expert: 'x' is not a whole number.", editor.Find(".intervention[data-index='0'] .intervention-error").TextContent));

        editor.Find(".intervention[data-index='1'] .field-layers input").Change("3");
        editor.Find(".intervention[data-index='0'] .field-expert input").Change("7");
        editor.WaitForAssertion(() => Assert.Empty(editor.FindAll(".intervention-error")));
    }
}
