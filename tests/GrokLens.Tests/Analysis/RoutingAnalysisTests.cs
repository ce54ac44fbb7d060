using GrokLens.Analysis;
using GrokLens.Engine;

namespace GrokLens.Tests.Analysis;

public class RoutingAnalysisTests
{
    [Fact]
    public void ARandomRouterOnRandomInputsGivesTheRandomBaselines()
    {
        // 20,000 independent Gaussian inputs through a random 8-expert router (logits of unit scale).
        const int tokens = 20000, hidden = 256, experts = 8;
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var inputs = randn([1, tokens, hidden], generator: generator, dtype: ScalarType.Float64);
        var router = randn([experts, hidden], generator: generator, dtype: ScalarType.Float64) / Math.Sqrt(hidden);
        var probabilities = inputs.matmul(router.t()).softmax(-1);
        var (_, top) = probabilities.topk(2, -1);
        var stats = RoutingStatistics.FromTopK(0, top, experts, probabilities: probabilities);

        // Binomial standard errors: √(p(1−p)/n) ≈ 0.0023 and 0.0035; allow about four of them.
        Assert.Equal(0.125, stats.SameFirstExpertRate, 0.01);
        Assert.Equal(13.0 / 28, stats.TopKOverlapRate, 0.015);
        Assert.All(stats.ExpertShares, share => Assert.Equal(0.125, share, 0.02));
        // Entropy by hand, and the co-activation matrix counts each token's pair once per order.
        var p = probabilities.data<double>().ToArray();
        double entropy = Enumerable.Range(0, tokens).Average(t => -Enumerable.Range(0, experts).Sum(e => p[t * 8 + e] * Math.Log(p[t * 8 + e])));
        Assert.Equal(entropy, stats.MeanRouterEntropy!.Value, 9);
        var co = stats.CoActivation!;
        Assert.Equal(2L * tokens, Enumerable.Range(0, experts).Sum(e => co[e][e]));
        Assert.Equal(4L * tokens, co.Sum(row => row.Sum()));
        Assert.True(Enumerable.Range(0, experts).All(i => Enumerable.Range(0, experts).All(j => co[i][j] == co[j][i])));
    }

    [Fact]
    public void PromptStatisticsMergeLayerByLayer()
    {
        using var model = TestModels.RandomLoaded();
        int[] first = [5, 17, 3, 88, 42], second = [9, 61, 23];
        var merged = RoutingAnalysis.ForPrompts(model, [first, second]);
        var one = RoutingAnalysis.ForPrompt(model, first);
        var two = RoutingAnalysis.ForPrompt(model, second);
        Assert.Equal(2, merged.Count);
        for (int layer = 0; layer < 2; layer++)
        {
            Assert.Equal(8, merged[layer].Tokens);
            Assert.Equal((one[layer].MeanRouterEntropy!.Value * 5 + two[layer].MeanRouterEntropy!.Value * 3) / 8, merged[layer].MeanRouterEntropy!.Value, 9);
            Assert.Equal(one[layer].CoActivation![2][5] + two[layer].CoActivation![2][5], merged[layer].CoActivation![2][5]);
        }
        // Counted by hand from the captured choices of layer 1.
        using var run = model.Run(first, RunOptions.CaptureOnly("blocks.1.moe.hook_topk_indices"));
        var chosen = run.Cache["blocks.1.moe.hook_topk_indices"];
        int same = Enumerable.Range(0, 4).Count(t => chosen[t, 0].item<long>() == chosen[t + 1, 0].item<long>());
        Assert.Equal(same / 4.0, one[1].SameFirstExpertRate, 12);
    }

    [Fact]
    public void PreviousTokenScoresAreTheMeanAttentionToThePreviousPosition()
    {
        using var model = TestModels.RandomLoaded();
        int[] tokens = [5, 17, 3, 88, 42, 9];
        var scores = HeadScoring.PreviousToken(model, tokens);
        using var run = model.Run(tokens, RunOptions.CaptureOnly("blocks.1.attn.hook_pattern"));
        var pattern = run.Cache["blocks.1.attn.hook_pattern"];
        for (int h = 0; h < 4; h++)
            Assert.Equal(Enumerable.Range(1, 5).Average(t => pattern[h, t, t - 1].item<float>()), scores.Scores[1][h], 5);

        var induction = HeadScoring.Induction(model, repeatLength: 6, sequences: 2);
        Assert.Equal(2, induction.Scores.Length);
        Assert.All(induction.Scores.SelectMany(s => s), s => Assert.InRange(s, 0, 1));
    }

    [Fact]
    public void MergingWeighsConsecutiveRatesByPairsSoAOneTokenPartAddsNothing()
    {
        // Row of 3 tokens: first experts 0,0,1 → one same pair of two; top-2 sets {0,1},{0,2},{1,3} → one overlapping pair.
        using var three = torch.tensor(new long[] { 0, 1, 0, 2, 1, 3 }, [1, 3, 2]);
        using var one = torch.tensor(new long[] { 5, 6 }, [1, 1, 2]);
        var a = RoutingStatistics.FromTopK(0, three, 8);
        var single = RoutingStatistics.FromTopK(0, one, 8);
        Assert.Equal(2, a.Pairs);
        Assert.Equal(0.5, a.SameFirstExpertRate, 12);
        Assert.Equal(0.5, a.TopKOverlapRate, 12);
        Assert.True(double.IsNaN(single.SameFirstExpertRate));

        var merged = RoutingStatistics.Merge([a, single]);
        Assert.Equal(0.5, merged.SameFirstExpertRate, 12);
        Assert.Equal(0.5, merged.TopKOverlapRate, 12);
        Assert.Equal(4, merged.Tokens);
        Assert.Equal(1.0 / 8, merged.ExpertShares[5], 12); // 1 of 8 assignments.
    }
}
