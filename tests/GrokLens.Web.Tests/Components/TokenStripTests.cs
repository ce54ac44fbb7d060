using Bunit;
using GrokLens.Web.Components.Workbench;
using GrokLens.Web.Views;

namespace GrokLens.Web.Tests.Components;

public sealed class TokenStripTests : MudTestContext
{
    private static readonly TokenView[] Tokens = TokenLabels.Build([10, 11, 10, 12], ["▁the", "↵", "▁the", "<0xE2>"], generatedFrom: 3);

    [Fact]
    public void ShowsEveryPieceVisiblyAndMarksSelectionAndGeneratedTokens()
    {
        var strip = Render<TokenStrip>(p => p.Add(s => s.Tokens, Tokens).Add(s => s.Selected, 1));

        var chips = strip.FindAll("[data-token-index]");
        Assert.Equal(["▁the", "↵", "▁the", "<0xE2>"], chips.Select(c => c.TextContent.Trim()));
        Assert.Equal(["false", "true", "false", "false"], chips.Select(c => c.GetAttribute("aria-selected")));
        Assert.Equal(["10", "11", "10", "12"], chips.Select(c => c.GetAttribute("data-token-id")));
        Assert.Contains("generated", chips[3].ClassName);
        Assert.DoesNotContain("generated", chips[2].ClassName);
    }

    [Fact]
    public void ClickingAChipReportsItsPosition()
    {
        int? selected = null;
        var strip = Render<TokenStrip>(p => p.Add(s => s.Tokens, Tokens).Add(s => s.OnSelect, (int t) => selected = t));

        strip.FindAll("[data-token-index]")[2].Click();

        Assert.Equal(2, selected);
    }

    [Fact]
    public void DuplicateTokensGetPositionedLabels()
    {
        Assert.Equal(["▁the·0", "↵", "▁the·2", "<0xE2>"], Tokens.Select(t => t.Label));
    }
}
