using GrokLens.Engine;
using GrokLens.Hooks;

namespace GrokLens.Tests.Hooks;

public class HookCaptureTests
{
    private static readonly int[] Tokens = [5, 17, 3, 88, 42, 9, 61, 23];

    [Fact]
    public void EveryHookPointIsCapturedWithItsDocumentedShape()
    {
        using var model = TestModels.RandomLoaded();
        using var run = model.Run(Tokens, RunOptions.CaptureOnly("*"));
        var c = model.Config;
        var symbols = new Dictionary<string, long>
        {
            ["T"] = Tokens.Length, ["Tk"] = Tokens.Length, ["D"] = c.HiddenSize, ["H"] = c.NumHeads,
            ["Hkv"] = c.NumKvHeads, ["d"] = c.HeadDim, ["E"] = c.NumExperts, ["k"] = c.TopK,
            ["F"] = c.ExpertSize, ["V"] = c.VocabSize,
        };
        var documented = HookPoints.All(c);
        Assert.Equal(documented.Select(h => h.Name), run.Cache.Names);
        foreach (var hook in documented)
        {
            var expected = hook.Shape.Trim('[', ']').Split(", ").Select(s => symbols[s]).ToArray();
            Assert.True(expected.SequenceEqual(run.Cache[hook.Name].shape),
                $"{hook.Name}: [{string.Join(", ", run.Cache[hook.Name].shape)}] vs documented {hook.Shape}");
        }
    }

    [Fact]
    public void OnlyRequestedHooksAreCaptured()
    {
        using var model = TestModels.RandomLoaded();
        using var run = model.Run(Tokens, RunOptions.CaptureOnly("blocks.*.attn.hook_pattern", "logits"));
        Assert.Equal(["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern", "logits"], run.Cache.Names);
    }

    [Fact]
    public void UnknownHookNamesListCloseMatches()
    {
        using var model = TestModels.RandomLoaded();
        var error = Assert.Throws<UnknownHookException>(() => model.Run(Tokens, RunOptions.CaptureOnly("blocks.0.attn.hook_patern")));
        Assert.Contains("blocks.0.attn.hook_pattern", error.Suggestions);
        Assert.Contains("Did you mean", error.Message);

        var noMatch = Assert.Throws<UnknownHookException>(() => model.Run(Tokens, RunOptions.CaptureOnly("blocks.9.*")));
        Assert.Contains("matches no hook point", noMatch.Message);

        var badFunction = Assert.Throws<UnknownHookException>(() =>
            model.Run(Tokens, new RunOptions { Hooks = [("blocks.0.hook_resid_psot", (a, _) => null)] }));
        Assert.Contains("blocks.0.hook_resid_post", badFunction.Suggestions);
    }

    [Fact]
    public void PerHeadResultsSumToTheAttentionOutputAndBranchesAddUp()
    {
        using var model = TestModels.RandomLoaded();
        using var run = model.Run(Tokens, RunOptions.CaptureOnly("*"));
        var cache = run.Cache;
        for (int layer = 0; layer < model.Config.NumLayers; layer++)
        {
            AssertClose(cache[HookPoints.Layer(layer, HookPoints.AttnOut)], cache[HookPoints.Layer(layer, HookPoints.Result)].sum(1));
            AssertClose(cache[HookPoints.Layer(layer, HookPoints.ResidMid)],
                cache[HookPoints.Layer(layer, HookPoints.ResidPre)] + cache[HookPoints.Layer(layer, HookPoints.AttnOutNormed)]);
            AssertClose(cache[HookPoints.Layer(layer, HookPoints.ResidPost)],
                cache[HookPoints.Layer(layer, HookPoints.ResidMid)] + cache[HookPoints.Layer(layer, HookPoints.MoeOutNormed)]);
            // Softmax rows sum to 1 and nothing attends to the future.
            var pattern = cache[HookPoints.Layer(layer, HookPoints.Pattern)];
            AssertClose(pattern.sum(-1), ones(pattern.shape[0], pattern.shape[1]));
            Assert.Equal(0f, pattern.triu(1).abs().max().item<float>());
        }
        AssertClose(cache[HookPoints.Layer(1, HookPoints.ResidPre)], cache[HookPoints.Layer(0, HookPoints.ResidPost)]);
    }

    [Fact]
    public void ExpertHooksFollowTheExpertFormula()
    {
        using var model = TestModels.RandomLoaded();
        using var run = model.Run(Tokens, RunOptions.CaptureOnly("blocks.1.*"));
        var cache = run.Cache;
        var matrices = model.Model.layers[1].matrices!;
        var x = cache["blocks.1.ln2.hook_normalized"];
        var indices = cache["blocks.1.moe.hook_topk_indices"];
        var weights = cache["blocks.1.moe.hook_topk_weights"];
        var probabilities = cache["blocks.1.moe.hook_router_probs"];
        using var noGrad = no_grad();
        var expected = zeros_like(x);
        for (int t = 0; t < Tokens.Length; t++)
        {
            // Top-k of the router probabilities, gates are the raw probabilities (no renormalisation).
            var (topValues, topIndices) = probabilities[t].topk(2);
            Assert.Equal(topIndices.data<long>().ToArray(), indices[t].data<long>().ToArray());
            AssertClose(weights[t], topValues);
            for (int slot = 0; slot < 2; slot++)
            {
                long e = indices[t, slot].item<long>();
                var row = x[t];
                var gateIn = matrices.expertGate[e].matmul(row);
                var up = matrices.expertUp[e].matmul(row);
                var tanhGelu = 0.5 * gateIn * (1 + (Math.Sqrt(2 / Math.PI) * (gateIn + 0.044715 * gateIn.pow(3))).tanh());
                var neurons = tanhGelu * up;
                var output = matrices.expertDown[e].matmul(neurons);
                AssertClose(cache["blocks.1.moe.hook_expert_pre"][t, slot], gateIn);
                AssertClose(cache["blocks.1.moe.hook_expert_post"][t, slot], neurons);
                AssertClose(cache["blocks.1.moe.hook_expert_out"][t, slot], output);
                expected[t] += weights[t, slot] * output;
            }
        }
        AssertClose(cache["blocks.1.hook_moe_out"], expected);
    }

    [Fact]
    public void HookFunctionsReplaceActivationsDownstream()
    {
        using var model = TestModels.RandomLoaded();
        HookFunction removeMoe = (activation, _) => zeros_like(activation);
        using var run = model.Run(Tokens, new RunOptions
        {
            Capture = ["blocks.1.hook_resid_mid", "blocks.1.hook_resid_post", "blocks.1.hook_moe_out_normed"],
            Hooks = [("blocks.1.hook_moe_out_normed", removeMoe)],
        });
        Assert.Equal(0f, run.Cache["blocks.1.hook_moe_out_normed"].abs().max().item<float>());
        AssertClose(run.Cache["blocks.1.hook_resid_post"], run.Cache["blocks.1.hook_resid_mid"]);

        using var plain = model.Run(Tokens);
        Assert.True((plain.Logits - run.Logits).abs().max().item<float>() > 1e-3, "removing the MoE branch must change the logits");
    }

    [Fact]
    public void ForcedExpertsAreUsedByTheMoE()
    {
        using var model = TestModels.RandomLoaded();
        // Route every token to experts 6 and 7 with gates ½ and ¼: the MoE must compute exactly that mixture.
        HookFunction force = (indices, _) => stack([full_like(indices[.., .., 0], 6), full_like(indices[.., .., 0], 7)], -1);
        HookFunction gates = (w, _) => stack([full_like(w[.., .., 0], 0.5), full_like(w[.., .., 0], 0.25)], -1);
        using var run = model.Run(Tokens, new RunOptions
        {
            Capture = ["blocks.0.moe.hook_expert_out", "blocks.0.hook_moe_out", "blocks.0.moe.hook_topk_indices"],
            Hooks = [("blocks.0.moe.hook_topk_indices", force), ("blocks.0.moe.hook_topk_weights", gates)],
        });
        Assert.All(run.Cache["blocks.0.moe.hook_topk_indices"][.., 0].data<long>().ToArray(), e => Assert.Equal(6, e));
        var outputs = run.Cache["blocks.0.moe.hook_expert_out"];
        AssertClose(run.Cache["blocks.0.hook_moe_out"], 0.5 * outputs[.., 0] + 0.25 * outputs[.., 1]);
    }

    [Fact]
    public void HookFunctionReturningTheWrongShapeIsAClearError()
    {
        using var model = TestModels.RandomLoaded();
        var error = Assert.Throws<InvalidOperationException>(() => model.Run(Tokens,
            new RunOptions { Hooks = [("blocks.0.hook_resid_mid", (a, _) => zeros(3))] }));
        Assert.Contains("blocks.0.hook_resid_mid", error.Message);
        Assert.Contains("expected", error.Message);
    }

    [Fact]
    public void PadKeysAreMaskedLikeXaiModelPy()
    {
        using var model = TestModels.RandomLoaded();
        int[] tokens = [5, 0, 17, 3];
        using var run = model.Run(tokens, RunOptions.CaptureOnly("blocks.0.attn.hook_pattern"));
        var pattern = run.Cache["blocks.0.attn.hook_pattern"];
        // Key 1 holds token id 0 ([PAD]): no later query attends to it.
        Assert.Equal(0f, pattern[.., 1.., 1].abs().max().item<float>());
    }

    [Fact]
    public void EmptyAndOverlongPromptsAreRefusedWithTheLimit()
    {
        using var model = TestModels.RandomLoaded();
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => model.Run([])).Message);
        var tooLong = Enumerable.Repeat(1, model.Config.MaxPositions + 1).ToArray();
        Assert.Contains($"at most {model.Config.MaxPositions}", Assert.Throws<ArgumentException>(() => model.Run(tooLong)).Message);
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => model.Run([1, 500])).Message);
    }

    internal static void AssertClose(Tensor actual, Tensor expected, double tolerance = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        double relative = (actual - expected).norm().item<float>() / Math.Max(expected.norm().item<float>(), 1e-12);
        Assert.True(relative < tolerance, $"relative error {relative:E2}");
    }
}
