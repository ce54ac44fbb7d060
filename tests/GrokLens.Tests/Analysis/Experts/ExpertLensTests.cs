using GrokLens.Analysis.Experts;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Loading;
using static GrokLens.Tests.Hooks.HookCaptureTests;

namespace GrokLens.Tests.Analysis.Experts;

public class ExpertLensTests
{
    private static readonly int[] Prompt = [243, 263, 387, 486, 20, 76, 421, 485];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SlotContributionsAddUpToWhatTheLayerAddsToTheResidual(bool grok2)
    {
        using var model = ModelLoader.Load(grok2 ? TestModels.Grok2FixtureDirectory : TestModels.FixtureDirectory);
        var hooks = ExpertLens.RequiredHooks(model.Config).Append("blocks.1.hook_moe_out_normed").Concat(grok2 ? ["blocks.1.hook_mlp_out"] : []).ToArray();
        using var run = model.Run(Prompt, RunOptions.CaptureOnly(hooks));
        using var contributions = ExpertLens.Contributions(model, run.Cache, 1);
        var sum = contributions.sum(1);
        if (grok2)
        {
            // The dense MLP's part: g ⊙ mlp_out · s / √2 with the same s.
            var ffn = run.Cache["blocks.1.hook_ffn_out"];
            var s = (ffn.square().mean([-1], keepdim: true) + model.Config.RmsNormEps).rsqrt();
            sum = sum + run.Cache["blocks.1.hook_mlp_out"] * s * model.Model.layers[1].postMoeNorm.weight.detach() / Math.Sqrt(2);
        }
        AssertClose(sum, run.Cache["blocks.1.hook_moe_out_normed"], 1e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EachExpertsLensAndCosinesMatchAFloat64Computation(bool grok2)
    {
        using var model = ModelLoader.Load(grok2 ? TestModels.Grok2FixtureDirectory : TestModels.FixtureDirectory);
        var config = model.Config;
        var lens = ExpertLens.ForPrompt(model, Prompt, topTokens: 4, layers: [0]);
        using var run = model.Run(Prompt, RunOptions.CaptureOnly(ExpertLens.RequiredHooks(config).ToArray()));
        var cache = run.Cache;
        var g = Float64Router.Rows(model.Model.layers[0].postMoeNorm.weight.detach().unsqueeze(0))[0];
        var finalScale = Float64Router.Rows(model.Model.finalNorm.weight.detach().unsqueeze(0))[0];
        var head = Float64Router.Rows(model.Model.OutputHead.detach());
        var feedForward = Float64Router.Rows(cache[grok2 ? "blocks.0.hook_ffn_out" : "blocks.0.hook_moe_out"]);
        var moe = Float64Router.Rows(cache["blocks.0.hook_moe_out"]);
        var gates = Float64Router.Rows(cache["blocks.0.moe.hook_topk_weights"]);
        var experts = Float64Router.Rows(cache["blocks.0.moe.hook_topk_indices"]);
        var layer = Assert.Single(lens.Layers);
        foreach (var position in layer.Positions)
        {
            int t = position.Position;
            var outputs = Float64Router.Rows(cache["blocks.0.moe.hook_expert_out"][t]);
            double s = 1 / Math.Sqrt(feedForward[t].Average(v => v * v) + config.RmsNormEps);
            var contributions = new List<double[]>();
            for (int slot = 0; slot < 2; slot++)
            {
                var c = outputs[slot].Select((v, d) => g[d] * gates[t][slot] * v * s / (grok2 ? Math.Sqrt(2) : 1)).ToArray();
                contributions.Add(c);
                Assert.Equal((int)experts[t][slot], position.Slots[slot].Expert);
                AssertTopTokens(Lens(c), position.Slots[slot].Top);
            }
            AssertTopTokens(Lens(contributions[0].Zip(contributions[1], (a, b) => a + b).ToArray()), position.Moe);

            int top = gates[t][0] >= gates[t][1] ? 0 : 1;
            var topOutput = outputs[top].Select(v => v * gates[t][top]).ToArray();
            Assert.Equal(Cosine(topOutput, moe[t]), position.Cosine, 9);
            Assert.Equal(Cosine(topOutput.Select((v, d) => v * g[d]).ToArray(), moe[t].Select((v, d) => v * g[d]).ToArray()), position.ResidualCosine, 9);
        }

        double[] Lens(double[] c)
        {
            double rms = 1 / Math.Sqrt(c.Average(v => v * v) + config.RmsNormEps);
            var normed = c.Select((v, d) => v * rms * finalScale[d]).ToArray();
            var logits = head.Select(row => row.Zip(normed, (a, b) => a * b).Sum() * config.OutputMultiplier)
                .Select(z => config.FinalLogitSoftcap > 0 ? config.FinalLogitSoftcap * Math.Tanh(z / config.FinalLogitSoftcap) : z).ToArray();
            double max = logits.Max();
            double sum = logits.Sum(z => Math.Exp(z - max));
            return logits.Select(z => Math.Exp(z - max) / sum).ToArray();
        }
    }

    private static void AssertTopTokens(double[] probabilities, IReadOnlyList<LensToken> top)
    {
        var expected = probabilities.Select((p, id) => (p, id)).OrderByDescending(x => x.p).Take(top.Count).ToList();
        Assert.Equal(expected.Select(x => x.id), top.Select(t => t.TokenId));
        for (int r = 0; r < top.Count; r++) Assert.Equal(expected[r].p, top[r].Probability, 2e-5); // float32 logits
    }

    private static double Cosine(double[] a, double[] b) =>
        a.Zip(b, (x, y) => x * y).Sum() / Math.Sqrt(a.Sum(x => x * x) * b.Sum(y => y * y));

    [Fact]
    public void TopExpertOnlyLossAndMeanCosinesMatchAnIndependentRun()
    {
        using var model = TestModels.RandomLoaded();
        var corpus = ExpertLoadTests.Corpus();
        var prompts = ExpertLoadTests.SetA.Concat(ExpertLoadTests.SetB).ToList();
        var result = TopExpertOnly.Run(model, corpus, new TopExpertOptions { Layers = [0] });

        // Keeping only the top expert with its raw gate is the same as giving the second slot a zero gate.
        HookFunction secondSlotOff = (w, _) => w * tensor(new float[] { 1, 0 });
        double Mean(IEnumerable<(double Nats, long Tokens)> parts)
        {
            var list = parts.ToList();
            return list.Sum(p => p.Nats) / list.Sum(p => p.Tokens);
        }
        double plain = Mean(prompts.Select(p => { using var r = model.Run(p); return Float64Router.Loss(r.Logits, p); }));
        double topOnly = Mean(prompts.Select(p =>
        {
            using var r = model.Run(p, new RunOptions { Hooks = [("blocks.0.moe.hook_topk_weights", secondSlotOff)] });
            return Float64Router.Loss(r.Logits, p);
        }));
        double everywhere = Mean(prompts.Select(p =>
        {
            using var r = model.Run(p, new RunOptions { Hooks = [("blocks.0.moe.hook_topk_weights", secondSlotOff), ("blocks.1.moe.hook_topk_weights", secondSlotOff)] });
            return Float64Router.Loss(r.Logits, p);
        }));
        Assert.Equal(plain, result.BaselineLoss, 9);
        Assert.Equal(topOnly, result.Layers[0].TopExpertLoss!.Value, 5);
        Assert.Equal(topOnly - plain, result.Layers[0].LossChange!.Value, 5);
        Assert.Null(result.Layers[1].TopExpertLoss);
        Assert.Equal(everywhere, result.AllLayersLoss!.Value, 5);

        // The corpus mean cosine is the mean of the per-position cosines of the prompt lens.
        var cosines = prompts.SelectMany(p => ExpertLens.ForPrompt(model, p, 1).Layers.Select(l => (l.Layer, l.Positions.Select(x => (x.Cosine, x.ResidualCosine)))))
            .GroupBy(l => l.Layer).ToDictionary(g => g.Key, g => g.SelectMany(l => l.Item2).ToList());
        for (int l = 0; l < 2; l++)
        {
            Assert.Equal(cosines[l].Average(c => c.Cosine), result.Layers[l].MeanCosine, 9);
            Assert.Equal(cosines[l].Average(c => c.ResidualCosine), result.Layers[l].MeanResidualCosine, 9);
        }
    }
}
