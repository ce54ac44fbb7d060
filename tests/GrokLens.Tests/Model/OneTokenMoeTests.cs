using GrokLens.Engine;
using GrokLens.Hooks;

namespace GrokLens.Tests.Model;

/// <summary>
/// A single token's MoE runs its experts directly in slot order (no sorting); it must give what the sorted path gives
/// for the same token, which is position 0 of a longer prompt (causal: later tokens do not change it).
/// </summary>
public class OneTokenMoeTests
{
    private static readonly string[] Hooks =
        ["blocks.0.moe.hook_expert_pre", "blocks.0.moe.hook_expert_post", "blocks.0.moe.hook_expert_out", "blocks.1.hook_resid_post"];

    public static TheoryData<string> Cases() => ["plain", "doubled pre-activations", "both slots rerouted to expert 3"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneTokenEqualsTheFirstPositionOfTheSortedPath(string change)
    {
        using var model = TestModels.RandomLoaded();
        HookFunction doubled = (activation, _) => activation * 2;
        HookFunction toExpert3 = (indices, _) => TorchSharp.torch.full_like(indices, 3);
        var options = new RunOptions
        {
            Capture = Hooks,
            Hooks = change switch
            {
                "doubled pre-activations" => [("blocks.0.moe.hook_expert_pre", doubled)],
                "both slots rerouted to expert 3" => [("blocks.0.moe.hook_topk_indices", toExpert3)],
                _ => [],
            },
        };
        using var one = model.Run([5], options);
        using var longer = model.Run([5, 17, 3], options);
        foreach (var name in Hooks)
        {
            using var expected = longer.Cache[name].narrow(0, 0, 1);
            var actual = one.Cache[name];
            Assert.Equal(expected.shape, actual.shape);
            double scale = expected.abs().max().item<float>();
            double distance = (actual - expected).abs().max().item<float>();
            Assert.True(distance <= 1e-5 * scale, $"{change}, {name}: {distance:E2} from the sorted path (scale {scale:E2})");
        }
        using var plain = model.Run([5], new RunOptions { Capture = Hooks });
        if (change != "plain")
            Assert.False(plain.Cache["blocks.1.hook_resid_post"].equal(one.Cache["blocks.1.hook_resid_post"]).all().item<bool>(), "the hook must change the result");
    }
}
