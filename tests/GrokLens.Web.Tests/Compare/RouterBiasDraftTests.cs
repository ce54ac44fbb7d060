using GrokLens.Interventions;
using GrokLens.Web.Compare;

namespace GrokLens.Web.Tests.Compare;

/// <summary>The Compare page's typed router_bias draft: built from the editor's fields, from a loaded experiment, and saved.</summary>
public sealed class RouterBiasDraftTests
{
    [Fact]
    public void TypedFieldsBuildTheRouterBiasAndASavedExperimentKeepsIt()
    {
        var draft = new InterventionDraft(InterventionKind.RouterBias) { Layers = "3", Expert = "1", Coefficient = -2.5, Positions = "0, 2" };
        var built = Assert.IsType<RouterBias>(draft.Build());
        Assert.Equal((3, 1, -2.5), (built.Layer, built.Expert, built.Bias));
        Assert.Equal([0, 2], built.Positions!);

        var reread = DraftJson.Read(DraftJson.Write(draft), 0);
        Assert.Equal(InterventionKind.RouterBias, reread.Kind);
        Assert.Equal(InterventionJson.Serialize([built]), InterventionJson.Serialize([reread.Build()]));
    }

    [Fact]
    public void ALoadedRouterBiasBecomesAnEditableDraft()
    {
        var loaded = InterventionJson.Deserialize("""[{ "type": "router_bias", "layer": 2, "expert": 5, "bias": 4 }]""")[0];
        var draft = InterventionDraft.From(loaded);
        Assert.Equal(InterventionKind.RouterBias, draft.Kind);
        Assert.Equal(("2", "5", 4.0, ""), (draft.Layers, draft.Expert, draft.Coefficient, draft.Positions));
        Assert.Equal(InterventionJson.Serialize([loaded]), InterventionJson.Serialize([draft.Build()]));
    }
}
