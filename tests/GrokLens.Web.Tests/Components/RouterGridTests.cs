using Bunit;
using GrokLens.Web.Components.Workbench;
using GrokLens.Web.Views;

namespace GrokLens.Web.Tests.Components;

public sealed class RouterGridTests : MudTestContext
{
    // Layer 0: token 0 is decisive (0.6/0.3 vs 0.05), token 1 is a near-tie (2nd 0.30 vs 3rd 0.28).
    // Layer 1: both decisive (margins 0.4 and 0.45), different first experts.
    private static readonly ExploreResult Result = SyntheticResult.WithRouter(["▁a", "▁b"],
    [
        [[0.6f, 0.3f, 0.05f, 0.05f], [0.02f, 0.40f, 0.28f, 0.30f]],
        [[0f, 0.4f, 0.6f, 0f], [0f, 0f, 0.45f, 0.55f]],
    ]);

    [Fact]
    public void CellsShowFirstExpertWithBothChoicesOnHoverAndMarkNearTies()
    {
        var grid = Render<RouterGrid>(p => p.Add(g => g.Result, Result).Add(g => g.NearTieThreshold, 0.05));

        var cells = grid.FindAll("td[data-layer]");
        Assert.Equal(4, cells.Count);
        Assert.Equal(["0", "1", "2", "3"], cells.Select(c => c.TextContent.Trim()));
        Assert.Equal(["0,1", "1,3", "2,1", "3,2"], cells.Select(c => c.GetAttribute("data-experts")));
        Assert.Equal(["false", "true", "false", "false"], cells.Select(c => c.GetAttribute("data-near-tie")));
        Assert.Contains("near-tie", cells[1].ClassName);
        Assert.Contains("expert 1: gate 0.400", cells[1].GetAttribute("title"));
        Assert.Contains("expert 3: gate 0.300", cells[1].GetAttribute("title"));
        Assert.Contains("margin to next 0.020", cells[1].GetAttribute("title"));
        Assert.Equal(["▁a", "▁b"], grid.FindAll("thead th[scope=col]").Select(h => h.TextContent));
    }

    [Fact]
    public void ThresholdDecidesWhatIsANearTie()
    {
        var grid = Render<RouterGrid>(p => p.Add(g => g.Result, Result).Add(g => g.NearTieThreshold, 0.3));

        // Margins: 0.25, 0.02, 0.4, 0.45 → only the first two are under 0.3.
        Assert.Equal(["true", "true", "false", "false"], grid.FindAll("td[data-layer]").Select(c => c.GetAttribute("data-near-tie")));
    }

    [Fact]
    public void ClickingACellSelectsLayerAndToken()
    {
        (int, int)? selected = null;
        var grid = Render<RouterGrid>(p => p.Add(g => g.Result, Result).Add(g => g.OnSelect, ((int Layer, int Token) c) => selected = c));

        grid.Find("td[data-layer='1'][data-token='0']").Click();

        Assert.Equal((1, 0), selected);
    }

    [Fact]
    public void DecisionHasEntropyInBitsAndMarginOfKthToNext()
    {
        var decision = RouterDecision.From([0.5f, 0.25f, 0.125f, 0.125f], 2, 0.05);

        Assert.Equal([0, 1, 2, 3], decision.ExpertsByProbability);
        Assert.Equal(0.125, decision.Margin, 6);
        Assert.Equal(1.75, decision.EntropyBits, 6);
        Assert.False(decision.NearTie);
    }
}
