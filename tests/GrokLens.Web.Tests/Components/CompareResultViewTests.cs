using Bunit;
using GrokLens.Analysis;
using GrokLens.Web.Compare;
using GrokLens.Web.Components.Compare;

namespace GrokLens.Web.Tests.Components;

/// <summary>The side-by-side view of a comparison of dumps that lack some hooks: what it draws, and what it names instead.</summary>
public sealed class CompareResultViewTests : MudTestContext
{
    private static readonly string[] Labels = ["▁a", "▁b"];

    /// <summary>Two tokens, two layers; layer 1's second token changed experts 0,1 → 2,1.</summary>
    private static RunComparisonResult Result(RoutingDiff? routing, Dictionary<string, string[]> missing) =>
        new([1, 2], [1, 2], [], ["ban expert 0 of layer 1"], [new(0, 0), new(1, 1)], null, null, null, null, routing, null, null)
        {
            MissingHooks = missing,
        };

    private static CompareView View(RunComparisonResult result, int[][]? firstExperts) =>
        new(result, Labels, null, ["embed", "layer 0", "layer 1"], null, null, null, firstExperts, "", "", [.. result.InterventionsB])
        {
            NameA = "A", NameB = "B", Source = "A = dump x.zip · run0 · B = dump y.zip · run0",
        };

    [Fact]
    public void RoutingOnlyDumpsDrawTheRoutingDiffAndNameWhatTheOtherViewsNeed()
    {
        var routing = new RoutingDiff([0, 1], [0, 1], [new RoutingChange(1, 1, 1, [0, 1], [2, 1], true, true, false, false)], [], [], 0.05);
        var view = View(Result(routing, new()
        {
            [RunComparison.NextTokenPart] = ["logits"],
            [RunComparison.AttentionPart] = ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"],
            [RunComparison.ResidualPart] = ["hook_embed"],
        }), [[3, 4], [0, 5]]);

        var rendered = Render<CompareResultView>(p => p.Add(v => v.View, view).Add(v => v.Run, 1));

        Assert.Equal(["true"], rendered.FindAll("[data-view='routing-diff'] td[data-changed='true']").Select(c => c.GetAttribute("data-changed")));
        var changed = rendered.Find("[data-view='routing-diff'] td[data-changed='true']");
        Assert.Equal(("1", "1", "01→21"), (changed.GetAttribute("data-layer"), changed.GetAttribute("data-token"), changed.TextContent.Trim()));
        Assert.Equal("3", rendered.Find("td[data-layer='0'][data-token='0']").TextContent.Trim());
        Assert.Empty(rendered.FindAll("#next-token-summary"));
        Assert.Empty(rendered.FindAll("[data-view='attention-diff'], [data-view='residual-diff']"));
        Assert.Equal("The next-token change needs hook logits in both runs, which the dumps do not hold.",
            rendered.Find("[data-view-unavailable='next-token change']").TextContent.Trim());
        Assert.Contains("blocks.1.attn.hook_pattern", rendered.Find("[data-view-unavailable='attention difference']").TextContent);
        Assert.Contains("hook_embed", rendered.Find("[data-view-unavailable='residual difference']").TextContent);
        Assert.Empty(rendered.FindAll("[data-view-unavailable='routing diff'], [data-view-unavailable='near-tie marking']"));
        Assert.Contains("A = dump x.zip", rendered.Find("#compare-source").TextContent);
        Assert.Contains("Interventions of B: ban expert 0 of layer 1", rendered.Markup);
        Assert.Contains("Cell = A first-choice expert", rendered.Find("[data-view='routing-diff']").TextContent);
    }

    [Fact]
    public void WithoutTheExpertIndicesTheRoutingDiffNamesThem()
    {
        var view = View(Result(null, new() { [RunComparison.RoutingPart] = ["blocks.0.moe.hook_topk_indices", "blocks.1.moe.hook_topk_indices"] }), null);

        var rendered = Render<CompareResultView>(p => p.Add(v => v.View, view).Add(v => v.Run, 1));

        Assert.Empty(rendered.FindAll("[data-view='routing-diff']"));
        Assert.Equal("The routing diff needs hooks blocks.0.moe.hook_topk_indices, blocks.1.moe.hook_topk_indices in both runs, which the dumps do not hold.",
            rendered.Find("[data-view-unavailable='routing diff']").TextContent.Trim());
    }
}
