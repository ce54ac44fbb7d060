using GrokLens.Hooks;
using GrokLens.Engine;
using GrokLens.Kernels;
using GrokLens.Model;

namespace GrokLens.Tests.Model;

/// <summary>
/// Several tokens' experts in C# (<see cref="ExpertPrefill"/>) against float64 math on every instruction set, and
/// against the general path the model takes when the experts' activations are hooked: the same numbers, bit for bit.
/// </summary>
public class ExpertPrefillTests
{
    /// <summary>Widths that leave columns after whole vectors (40) and rows of W after tiles of 4 (50).</summary>
    private static GrokConfig OddWidths() => TestModels.SmallConfig() with { HiddenSize = 40, ExpertSize = 50 };

    public static TheoryData<KernelPath> Paths() => [.. KernelPaths.Supported];

    [Theory]
    [MemberData(nameof(Paths))]
    public void MatchesFloat64(KernelPath path)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        const int experts = 4, hidden = 40, size = 50, tokens = 23, slots = 2;
        var gate = randn(experts, size, hidden) / Math.Sqrt(hidden);
        var up = randn(experts, size, hidden) / Math.Sqrt(hidden);
        var down = randn(experts, hidden, size) / Math.Sqrt(size);
        var x = randn(tokens, hidden);
        // Expert 2 is chosen by no token; expert 0 by most.
        var indices = Enumerable.Range(0, tokens * slots).Select(p => p % 5 == 0 ? 3L : p % 2 == 0 ? 0L : 1L).ToArray();
        var gates = rand(tokens, slots);

        using var sum = ExpertPrefill.Run(x, indices, gates, new FloatExperts(gate), new FloatExperts(up), new FloatExperts(down), threads: 2, path);

        var expected = zeros(tokens, hidden, dtype: ScalarType.Float64);
        for (int t = 0; t < tokens; t++)
            for (int s = 0; s < slots; s++)
            {
                long e = indices[t * slots + s];
                var row = x[t].to_type(ScalarType.Float64);
                var g = gate[e].to_type(ScalarType.Float64).matmul(row);
                var u = up[e].to_type(ScalarType.Float64).matmul(row);
                var a = 0.5 * g * (1 + (Math.Sqrt(2 / Math.PI) * (g + 0.044715 * g.pow(3))).tanh()) * u;
                expected[t] += gates[t, s].to_type(ScalarType.Float64) * down[e].to_type(ScalarType.Float64).matmul(a);
            }
        double distance = (sum.to_type(ScalarType.Float64) - expected).abs().max().item<double>();
        Assert.True(distance <= 1e-5, $"{path}: {distance:E2} from float64");
    }

    [Theory]
    [InlineData("grok-1 random")]
    [InlineData("grok2-mini")]
    public void HookingTheExpertsChangesNoNumber(string name)
    {
        // A plain run takes the C# prefill; hooking the experts' activations takes the general path. Capturing must not
        // change what it observes, so both give the same logits and residual stream to the bit.
        using var model = name == "grok2-mini" ? GrokLens.Loading.ModelLoader.Load(TestModels.Grok2FixtureDirectory) : TestModels.RandomLoaded(OddWidths());
        int[] prompt = [5, 17, 3, 44, 9, 12, 60, 2, 31];
        using var plain = model.Run(prompt, RunOptions.CaptureOnly("blocks.1.hook_resid_post"));
        using var hooked = model.Run(prompt, RunOptions.CaptureOnly("blocks.1.hook_resid_post", "blocks.0.moe.hook_expert_pre",
            "blocks.0.moe.hook_expert_post", "blocks.0.moe.hook_expert_out", "blocks.1.moe.hook_expert_out"));
        Assert.True(plain.Logits.equal(hooked.Logits).all().item<bool>(), "logits differ");
        Assert.True(plain.Cache["blocks.1.hook_resid_post"].equal(hooked.Cache["blocks.1.hook_resid_post"]).all().item<bool>());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(1)]
    [InlineData(0)]
    public void HooksThatChangeTheNumberOfExpertsPerTokenAgreeWithTheGeneralPath(int slots)
    {
        // Routing hooks run before the experts, so a plain run still takes the C# prefill with the slots they return.
        using var model = TestModels.RandomLoaded(OddWidths());
        int[] prompt = [5, 17, 3, 44, 9, 12, 60, 2, 31];
        HookFunction indices = (chosen, _) => arange(slots, dtype: ScalarType.Int64).expand(chosen.shape[0], chosen.shape[1], slots).contiguous();
        HookFunction weights = (gates, _) => full(gates.shape[0], gates.shape[1], slots, 1f / Math.Max(1, slots));
        (string, HookFunction)[] routing = [("blocks.0.moe.hook_topk_indices", indices), ("blocks.0.moe.hook_topk_weights", weights)];
        using var plain = model.Run(prompt, new RunOptions { Hooks = routing });
        using var general = model.Run(prompt, new RunOptions { Hooks = routing, Capture = ["blocks.0.moe.hook_expert_out"] });
        double scale = general.Logits.abs().max().item<float>();
        double distance = (plain.Logits - general.Logits).abs().max().item<float>();
        Assert.True(distance <= 1e-6 * scale, $"{slots} experts per token: {distance:E2} (scale {scale:E2})");
    }

    [Fact]
    public void ABatchOfPromptsMatchesEachPromptAlone()
    {
        using var model = TestModels.RandomLoaded(OddWidths());
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var batch = tensor(new long[] { 5, 17, 3, 44, 9, 12, 60, 2, 31, 8 }).view(2, 5);
        var both = model.Model.Forward(batch);
        foreach (int row in new[] { 0, 1 })
        {
            var alone = model.Model.Forward(batch.narrow(0, row, 1));
            double distance = (both.narrow(0, row, 1) - alone).abs().max().item<float>();
            Assert.True(distance <= 1e-5 * alone.abs().max().item<float>(), $"prompt {row}: {distance:E2}");
        }
    }
}
