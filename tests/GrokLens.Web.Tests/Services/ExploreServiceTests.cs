using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Web.Services;
using GrokLens.Web.Views;

namespace GrokLens.Web.Tests.Services;

/// <summary>The view arrays are checked against the captured tensors with independent float64 computations.</summary>
[Collection(ModelCollection.Name)]
public sealed class ExploreServiceTests(ModelFixture fixture)
{
    private ExploreResult Result => fixture.Result;

    private Task<T> WithRun<T>(Func<RunResult, IModelEngine, T> check, params string[] hooks) =>
        fixture.Model.RunAsync(model =>
        {
            using var run = model.Run(fixture.TokenIds, RunOptions.CaptureOnly(hooks));
            return check(run, model);
        });

    [Fact]
    public void TokensCarryVisiblePiecesAndUniqueLabels()
    {
        Assert.Equal(fixture.TokenIds, Result.Tokens.Select(t => t.Id));
        Assert.Equal(Result.Length, Result.Labels.Distinct().Count());
        Assert.Contains(Result.Tokens, t => t.Display.StartsWith('▁'));
        Assert.Contains(Result.Tokens, t => t.Label.Contains('·'));   // "the" and "sat" repeat in the prompt
        Assert.All(Result.Tokens, t => Assert.False(t.Generated));
    }

    [Fact]
    public async Task ResidualNormsMatchAFloat64Computation()
    {
        var expected = await WithRun((run, model) =>
            new[] { HookPoints.Embed }.Concat(Enumerable.Range(0, model.Config.NumLayers).Select(l => HookPoints.Layer(l, HookPoints.ResidPost)))
                .Select(h => TensorArrays.ToRows(run.Cache[h]).Select(row => Math.Sqrt(row.Sum(v => (double)v * v))).ToArray()).ToArray(),
            "hook_embed", "blocks.*.hook_resid_post");

        for (int s = 0; s < expected.Length; s++)
            for (int t = 0; t < Result.Length; t++)
                Assert.Equal(expected[s][t], Result.ResidualNorm[s][t], expected[s][t] * 1e-5);
    }

    [Fact]
    public async Task NextTokensAreTheSoftmaxOfTheLogitsAndTheLensEndsThere()
    {
        var logits = await WithRun((run, _) => TensorArrays.ToRows(run.Logits), "logits");

        for (int t = 0; t < Result.Length; t++)
        {
            double max = logits[t].Max(), sum = logits[t].Sum(v => Math.Exp(v - max));
            var order = Enumerable.Range(0, logits[t].Length).OrderByDescending(i => logits[t][i]).Take(ExploreResultBuilder.NextTokenCount).ToArray();
            Assert.Equal(order, Result.NextTokens[t].Select(p => p.Id));
            for (int r = 0; r < order.Length; r++)
                Assert.Equal(Math.Exp(logits[t][order[r]] - max) / sum, Result.NextTokens[t][r].Probability, 1e-5);
            // The last lens stage runs the final residual through the same norm and unembedding: the model's own prediction.
            Assert.Equal(order[0], Result.Lens[^1][t][0].Id);
        }
    }

    [Fact]
    public void RoutingIsTheTopKOfTheRouterProbabilitiesWithRawGates()
    {
        for (int l = 0; l < Result.Layers; l++)
            for (int t = 0; t < Result.Length; t++)
            {
                var probabilities = Result.RouterProbs[l][t];
                Assert.Equal(1.0, probabilities.Sum(p => (double)p), 1e-5);
                var expected = Enumerable.Range(0, Result.Experts).OrderByDescending(e => probabilities[e]).Take(Result.TopK).ToArray();
                Assert.Equal(expected, Result.ChosenExperts[l][t]);
                Assert.Equal(expected.Select(e => probabilities[e]), Result.GateWeights[l][t]);
            }
        for (int l = 0; l < Result.Layers; l++)
            for (int e = 0; e < Result.Experts; e++)
            {
                double share = Result.ChosenExperts[l].Sum(c => c.Count(x => x == e)) / (double)(Result.Length * Result.TopK);
                Assert.Equal(share, Result.Routing[l].ExpertShares[e], 1e-9);
            }
    }

    [Fact]
    public void AttentionIsCausalAndScoresShowTheSoftCap()
    {
        for (int l = 0; l < Result.Layers; l++)
            for (int h = 0; h < Result.Heads; h++)
                for (int q = 0; q < Result.Length; q++)
                {
                    Assert.Equal(1.0, Result.Pattern[l][h][q].Sum(p => (double)p), 1e-4);
                    for (int k = 0; k < Result.Length; k++)
                    {
                        float raw = Result.ScoresRaw[l][h][q][k], capped = Result.ScoresCapped[l][h][q][k];
                        if (k > q)
                        {
                            Assert.Equal(0f, Result.Pattern[l][h][q][k]);
                            Assert.True(float.IsNaN(raw) && float.IsNaN(capped));
                        }
                        else Assert.Equal(Result.SoftCap * Math.Tanh(raw / Result.SoftCap), capped, 1e-4);
                    }
                }
    }

    [Fact]
    public async Task EmptyAndTooLongPromptsAreRefusedWithTheLimitStated()
    {
        var empty = await Assert.ThrowsAsync<PromptException>(() => Task.FromResult(fixture.Service.Tokenize(fixture.Model.Model, " \n ")));
        Assert.Equal("The prompt is empty: type some text first.", empty.Message);

        var tooLong = await Assert.ThrowsAsync<PromptException>(() => Task.FromResult(fixture.Service.Tokenize(fixture.Model.Model, string.Join(" ", Enumerable.Repeat("the cat", 600)))));
        Assert.Matches(@"The prompt is \d+ tokens long; model 'grok-tiny' takes at most 512 tokens\.", tooLong.Message);
    }

    [Fact]
    public async Task ConcurrentRunsQueueAndGiveTheSameResultAsOneAlone()
    {
        var other = fixture.Service.Tokenize(fixture.Model.Model, "a different prompt about a river");
        var runs = Enumerable.Range(0, 4).Select(i => fixture.Service.AnalyseAsync(fixture.Model, i % 2 == 0 ? fixture.TokenIds : other, 99)).ToList();
        var results = await Task.WhenAll(runs);

        Assert.Equal(Result.ResidualNorm[^1], results[0].ResidualNorm[^1]);
        Assert.Equal(Result.ResidualNorm[^1], results[2].ResidualNorm[^1]);
        Assert.Equal(results[1].ResidualNorm[^1], results[3].ResidualNorm[^1]);
        Assert.Equal(other, results[1].Tokens.Select(t => t.Id));
    }

    [Fact]
    public async Task GenerationStreamsTokensAndStopsWhenCancelled()
    {
        var sampling = new GrokLens.Generation.SamplingOptions { MaxNewTokens = 6, Temperature = 0 };
        var streamed = new List<TokenView>();
        await foreach (var token in fixture.Service.GenerateAsync(fixture.Model, fixture.TokenIds, sampling)) streamed.Add(token);
        Assert.InRange(streamed.Count, 1, 6);
        Assert.Equal(Enumerable.Range(fixture.TokenIds.Count, streamed.Count), streamed.Select(t => t.Position));
        Assert.All(streamed, t => Assert.True(t.Generated));

        using var cancel = new CancellationTokenSource();
        var cancelled = new List<TokenView>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var token in fixture.Service.GenerateAsync(fixture.Model, fixture.TokenIds, sampling with { MaxNewTokens = 200 }, cancel.Token))
            {
                cancelled.Add(token);
                if (cancelled.Count == 2) cancel.Cancel();
            }
        });
        Assert.InRange(cancelled.Count, 2, 4);
        Assert.Equal(streamed.Take(2).Select(t => t.Id), cancelled.Take(2).Select(t => t.Id));
    }

    [Fact]
    public async Task HookValuesAreTheCapturedTensorFlattened()
    {
        var values = await fixture.Service.HookValuesAsync(fixture.Model, fixture.TokenIds, "blocks.0.moe.hook_router_probs");

        Assert.Equal(Result.RouterProbs[0].SelectMany(r => r), values);
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Service.HookValuesAsync(fixture.Model, fixture.TokenIds, "blocks.0.nope"));
    }
}
