using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Tests.Fixtures;

namespace GrokLens.Tests.Analysis;

public class DirectLogitAttributionTests
{
    [Fact]
    public void PartsSumToTheFixtureModelsLogit()
    {
        using var model = ModelLoader.Load(TestModels.FixtureDirectory);
        var tokens = FixtureReference.TokenIds();
        using var plain = model.Run(tokens);
        for (int position = 0; position < tokens.Length; position += 3)
        {
            int top = (int)plain.Logits[position].argmax().item<long>();
            var result = DirectLogitAttribution.Run(model, tokens, top, position: position);
            AssertSumsToWhole(result, plain.Logits[position, top].item<float>());
        }
    }

    [Fact]
    public void PairDifferenceAndPartsAddUpOnARandomModel()
    {
        using var model = TestModels.RandomLoaded();
        int[] tokens = [5, 17, 3, 88, 42, 9, 61, 23];
        using var plain = model.Run(tokens);
        var (_, ranked) = plain.Logits[^1].topk(2);
        int first = (int)ranked[0].item<long>(), second = (int)ranked[1].item<long>();
        var result = DirectLogitAttribution.Run(model, tokens, first, second);
        Assert.Equal(tokens.Length - 1, result.Position);
        AssertSumsToWhole(result, plain.Logits[^1, first].item<float>() - plain.Logits[^1, second].item<float>());

        // The experts listed are the ones the router chose, with their gates.
        using var routing = model.Run(tokens, RunOptions.CaptureOnly("blocks.1.moe.hook_topk_*"));
        Assert.Equal(routing.Cache["blocks.1.moe.hook_topk_indices"][^1].data<long>().ToArray().Select(e => (int)e),
            result.Experts[1].Select(e => e.Expert));
        Assert.Equal(routing.Cache["blocks.1.moe.hook_topk_weights"][^1, 1].item<float>(), result.Experts[1][1].Gate, 6);
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => DirectLogitAttribution.Run(model, tokens, 97)).Message);
    }

    [Fact]
    public void Grok2PartsSplitTheDenseMlpFromTheExpertsAndSumToTheLogitBeforeTheFinalCap()
    {
        using var model = ModelLoader.Load(TestModels.Grok2FixtureDirectory);
        var tokens = FixtureReference.TokenIds(TestModels.Grok2FixtureDirectory);
        using var plain = model.Run(tokens, RunOptions.CaptureOnly("hook_logits_uncapped"));
        for (int position = 0; position < tokens.Length; position += 5)
        {
            int top = (int)plain.Logits[position].argmax().item<long>();
            var result = DirectLogitAttribution.Run(model, tokens, top, position: position);
            AssertSumsToWhole(result, plain.Cache["hook_logits_uncapped"][position, top].item<float>());
            double capped = plain.Logits[position, top].item<float>();
            Assert.InRange(result.CappedLogit, capped - 1e-5 * Math.Abs(capped), capped + 1e-5 * Math.Abs(capped));
            double cap = model.Config.FinalLogitSoftcap;
            Assert.Equal(cap * Math.Tanh(result.Logit / cap), result.CappedLogit, 4);
            Assert.All(result.Dense, dense => Assert.NotEqual(0, dense));
        }
    }

    private static void AssertSumsToWhole(LogitAttributionResult result, double modelLogit)
    {
        Assert.True(Math.Abs(result.SumOfParts - modelLogit) <= 1e-4 * Math.Abs(modelLogit),
            $"parts sum to {result.SumOfParts}, the model's logit is {modelLogit}");
        // Two forward passes (the attribution's and the test's) agree to float32 rounding, not to a fixed decimal place.
        Assert.InRange(result.Logit, modelLogit - 1e-5 * Math.Max(1, Math.Abs(modelLogit)), modelLogit + 1e-5 * Math.Max(1, Math.Abs(modelLogit)));
        for (int layer = 0; layer < result.Attention.Length; layer++)
        {
            Assert.Equal(result.Attention[layer], result.Heads[layer].Sum(), 5); // per-head results are float32 captures
            Assert.Equal(result.Moe[layer], result.Experts[layer].Sum(e => e.Contribution), 5);
        }
    }
}
