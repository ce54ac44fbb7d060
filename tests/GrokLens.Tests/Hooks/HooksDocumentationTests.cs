using GrokLens.Engine;
using GrokLens.Hooks;

namespace GrokLens.Tests.Hooks;

public class HooksDocumentationTests
{
    [Fact]
    public void DocsListEveryHookPointWithItsShape()
    {
        var doc = File.ReadAllText(Path.Combine(TestModels.RepositoryRoot(), "docs", "hooks.md"));
        foreach (var (suffix, shape, _) in HookPoints.PerLayer)
            Assert.Contains($"| `blocks.{{i}}.{suffix}` | {shape} |", doc);
        foreach (var name in new[] { HookPoints.Embed, HookPoints.FinalNorm, HookPoints.Logits })
            Assert.Contains($"| `{name}` |", doc);
    }

    [Fact]
    public void HeadAblationExampleFromTheDocsZeroesThatHeadsContribution()
    {
        using var model = TestModels.RandomLoaded();
        int[] tokenIds = [5, 17, 3, 88];
        // The example of docs/hooks.md, verbatim:
        // z is [B, T, H, d] inside hook functions: zero head 0 of layer 1 (a head ablation).
        HookFunction removeHead0 = (z, context) => z.index_fill(2, tensor(new long[] { 0 }), 0.0);
        using var run = model.Run(tokenIds, new RunOptions
        {
            Capture = ["logits", "blocks.1.attn.hook_result"],
            Hooks = [("blocks.1.attn.hook_z", removeHead0)],
        });
        Assert.Equal(0f, run.Cache["blocks.1.attn.hook_result"][.., 0].abs().max().item<float>());
        Assert.True(run.Cache["blocks.1.attn.hook_result"][.., 1].abs().max().item<float>() > 0);
    }
}
