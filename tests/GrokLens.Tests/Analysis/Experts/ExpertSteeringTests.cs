using GrokLens.Analysis.Experts;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Interventions;
using GrokLens.Loading;

namespace GrokLens.Tests.Analysis.Experts;

public class ExpertSteeringTests
{
    private static readonly int[] Tokens = [5, 17, 3, 88, 42, 9, 61, 23, 70, 12];

    [Theory]
    [InlineData(false, 1.5)]
    [InlineData(false, -0.7)]
    [InlineData(true, 2.0)]
    public void RouterBiasShiftsTheLogitsTheSoftmaxReads(bool grok2, double bias)
    {
        using var model = grok2 ? ModelLoader.Load(TestModels.Grok2FixtureDirectory) : TestModels.RandomLoaded();
        var config = model.Config;
        int[] prompt = grok2 ? [243, 263, 387, 486, 20, 76, 421, 485] : Tokens;
        string[] hooks = ["blocks.1.moe.hook_router_logits", "blocks.1.moe.hook_router_probs", "blocks.1.moe.hook_topk_indices", "blocks.1.moe.hook_topk_weights"];
        using var plain = model.Run(prompt, RunOptions.CaptureOnly(hooks));
        using var steered = InterventionRunner.Run(model, prompt, [new RouterBias(1, 3, bias)], RunOptions.CaptureOnly(hooks));

        // Grok-1: softmax(logits + b·e₃); Grok-2: softmax(cap·tanh(logits/cap) + b·e₃), the bias after the cap.
        var logits = Float64Router.Rows(plain.Cache["blocks.1.moe.hook_router_logits"]);
        var probabilities = Float64Router.Rows(steered.Cache["blocks.1.moe.hook_router_probs"]);
        var indices = Float64Router.Rows(steered.Cache["blocks.1.moe.hook_topk_indices"]);
        var gates = Float64Router.Rows(steered.Cache["blocks.1.moe.hook_topk_weights"]);
        double cap = config.RouterLogitSoftcap;
        Assert.Equal(grok2, cap > 0);
        for (int t = 0; t < prompt.Length; t++)
        {
            var z = logits[t].Select((l, e) => (cap > 0 ? cap * Math.Tanh(l / cap) : l) + (e == 3 ? bias : 0)).ToArray();
            double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
            var expected = z.Select(v => Math.Exp(v - max) / sum).ToArray();
            // An absolute tolerance: rounding both to 5 decimals fails whenever float32 rounding straddles a boundary.
            for (int e = 0; e < 8; e++) Assert.Equal(expected[e], probabilities[t][e], 1e-6);
            var top = expected.Select((p, e) => (p, e)).OrderByDescending(x => x.p).Take(2).ToArray();
            Assert.Equal(top.Select(x => (double)x.e), indices[t]);
            Assert.Equal(top[0].p, gates[t][0], 1e-6);
        }
        // Grok-2's raw logits are untouched (the bias comes after the cap); Grok-1's softmax reads them, so they carry it.
        var oneHot = zeros(8);
        oneHot[3] = bias;
        var expectedRaw = grok2 ? plain.Cache["blocks.1.moe.hook_router_logits"] : plain.Cache["blocks.1.moe.hook_router_logits"] + oneHot;
        GrokLens.Tests.Hooks.HookCaptureTests.AssertClose(steered.Cache["blocks.1.moe.hook_router_logits"], expectedRaw, 1e-6);
    }

    [Fact]
    public void ALargeBiasPutsAnExpertInEveryTopKOrKeepsItOutOnlyAtTheChosenPositions()
    {
        using var model = TestModels.RandomLoaded();
        Intervention[] steer = [new RouterBias(0, 6, 50), new RouterBias(0, 2, -50, Positions: [1, 4])];
        using var plain = model.Run(Tokens, RunOptions.CaptureOnly("blocks.0.moe.hook_topk_indices"));
        using var run = InterventionRunner.Run(model, Tokens, steer, RunOptions.CaptureOnly("blocks.0.moe.hook_topk_indices"));
        var before = Float64Router.Rows(plain.Cache["blocks.0.moe.hook_topk_indices"]);
        var after = Float64Router.Rows(run.Cache["blocks.0.moe.hook_topk_indices"]);
        for (int t = 0; t < Tokens.Length; t++)
        {
            Assert.Equal(6, after[t][0]);
            if (t is 1 or 4) Assert.DoesNotContain(2.0, after[t]);
            // Elsewhere the second slot is the best expert other than 6 (expert 2 allowed).
            else Assert.Equal(before[t][0] == 6 ? before[t][1] : before[t][0], after[t][1]);
        }
    }

    [Fact]
    public void RouterBiasJoinsJsonExperimentsAndIsValidated()
    {
        Intervention[] list = [new RouterBias(1, 3, -2.5, [0, 2]), new RouterBias(0, 7, 1) { Enabled = false }];
        var json = InterventionJson.Serialize(list);
        Assert.Contains("\"type\": \"router_bias\"", json);
        Assert.Contains("\"bias\": -2.5", json);
        var back = InterventionJson.Deserialize(json);
        Assert.Equal(json, InterventionJson.Serialize(back));
        Assert.Equal([3, 7], back.Cast<RouterBias>().Select(b => b.Expert));
        Assert.Equal("add -2.5 to expert 3's router logit in layer 1 at positions 0, 2", list[0].Describe());
        var config = TestModels.SmallConfig();
        Assert.Throws<InterventionException>(() => new RouterBias(2, 0, 1).Validate(config));
        Assert.Throws<InterventionException>(() => new RouterBias(0, 8, 1).Validate(config));
        Assert.Throws<InterventionException>(() => new RouterBias(0, 1, double.NaN).Validate(config));
    }

    /// <summary>
    /// A model whose tokens 10…19 (set A) carry +3 and tokens 20…29 (set B) −3 along the first embedding axis, and whose
    /// router rows for expert 5 of layer 0 and expert 2 of layer 1 read only that axis (×10): A's tokens always go to those
    /// experts, B's never.
    /// </summary>
    internal static LoadedModel PlantedModel()
    {
        var model = TestModels.RandomLoaded();
        using (no_grad())
        {
            var embedding = model.Model.embedding;
            embedding.narrow(0, 10, 10).select(1, 0).fill_(3.0);
            embedding.narrow(0, 20, 10).select(1, 0).fill_(-3.0);
            foreach (var (layer, expert) in new[] { (0, 5), (1, 2) })
            {
                var row = model.Model.layers[layer].moe.routerWeight.select(0, expert);
                row.zero_();
                row.select(0, 0).fill_(10.0);
            }
        }
        return model;
    }

    internal static readonly int[][] PlantedA = [[10, 11, 12, 13, 14, 15], [19, 18, 17, 16, 15, 14, 13], [12, 12, 10, 11]];
    internal static readonly int[][] PlantedB = [[20, 21, 22, 23, 24], [29, 28, 27, 26, 25, 24, 23, 22], [25, 20]];

    [Fact]
    public void TheContrastiveScoreFindsTheExpertsAPlantedDifferenceUses()
    {
        using var model = PlantedModel();
        var corpus = new ExpertCorpus([new PromptSubset("a", PlantedA), new PromptSubset("b", PlantedB)]);
        var tallies = ExpertPass.Run(model, corpus, new ExpertPassOptions());
        var scores = SteeringScoresResult.From("a", tallies.For("a").Routing, "b", tallies.For("b").Routing);

        Assert.Equal([(0, 5), (1, 2)], scores.Top(2).Select(s => (s.Layer, s.Expert)).Order());
        Assert.All(scores.Top(2), s => Assert.Equal((1.0, 0.0), (s.RateA, s.RateB)));
        // Every rate against the float64 router.
        foreach (var score in scores.Scores)
        {
            double Rate(int[][] set) => set.Sum(p => Float64Router.Choices(model, p)[score.Layer].Count(c => c.Experts.Contains(score.Expert)))
                                        / (double)set.Sum(p => p.Length);
            Assert.Equal(Rate(PlantedA) - Rate(PlantedB), score.Difference, 12);
        }
        Assert.Equal([new RouterBias(0, 5, 4), new RouterBias(1, 2, 4)], scores.Steer(2, 4).OrderBy(b => b.Layer));
    }

    [Fact]
    public void SteeringGenerationComparesSameSeedRunsAndReportsTheRoutingChange()
    {
        using var model = PlantedModel();
        int[] prompt = [20, 21, 22, 23];
        RouterBias[] biases = [new RouterBias(0, 5, 100)];
        var sampling = new SamplingOptions { MaxNewTokens = 6, Temperature = 0.9, Seed = 3, StopAtEos = false };
        var comparison = ExpertSteering.Compare(model, prompt, biases, sampling);

        Assert.Equal(TextGenerator.Generate(model, prompt, sampling).Select(t => t.Id), comparison.BaselineTokens);
        Assert.Equal(TextGenerator.Generate(model, prompt, sampling, default, InterventionRunner.CreateHooks(model.Config, biases)).Select(t => t.Id),
            comparison.SteeredTokens);
        var expert = Assert.Single(comparison.Experts);
        Assert.Equal((0.0, 1.0), (expert.PromptRateBefore, expert.PromptRateAfter)); // B's tokens never chose it; now all do.
        Assert.Equal(1.0, expert.GenerationRateAfter);
        // Every prompt token's layer-0 set changed (expert 5 joined it); layer 1 may follow.
        Assert.InRange(comparison.ChangedChoices, 0.5, 1.0);
    }
}
