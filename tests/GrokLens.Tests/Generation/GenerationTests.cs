using GrokLens.Engine;
using GrokLens.Generation;

namespace GrokLens.Tests.Generation;

public class GenerationTests
{
    [Fact]
    public void GreedyGenerationPicksTheArgmaxOfAFullForwardPassEachStep()
    {
        using var model = TestModels.RandomLoaded();
        int[] prompt = [5, 17, 3, 88];
        var generated = TextGenerator.Generate(model, prompt, SamplingOptions.Greedy(6)).ToList();
        Assert.Equal(6, generated.Count);

        // Recompute each step without a cache: the whole sequence so far, argmax at the last position.
        var sequence = prompt.ToList();
        foreach (var token in generated)
        {
            using var run = model.Run(sequence);
            Assert.Equal(TokenSampler.ArgMax(run.Logits[-1].data<float>().ToArray()), token.Id);
            Assert.Equal(sequence.Count, token.Position);
            sequence.Add(token.Id);
        }
    }

    [Fact]
    public void SameSeedSameTokensAndDifferentSeedsDiffer()
    {
        using var model = TestModels.RandomLoaded();
        int[] prompt = [5, 17, 3];
        var options = new SamplingOptions { MaxNewTokens = 12, Temperature = 1.5, Seed = 42 };
        var first = TextGenerator.Generate(model, prompt, options).Select(t => t.Id).ToList();
        var again = TextGenerator.Generate(model, prompt, options).Select(t => t.Id).ToList();
        Assert.Equal(first, again);
        var others = Enumerable.Range(1, 5)
            .Select(seed => TextGenerator.Generate(model, prompt, options with { Seed = seed }).Select(t => t.Id).ToList());
        Assert.Contains(others, other => !other.SequenceEqual(first));
    }

    [Fact]
    public void SamplerFollowsTheTemperedDistributionAndItsCuts()
    {
        float[] logits = [2f, 1f, 0f, -1f];
        var counts = new int[4];
        var sampler = new TokenSampler(new SamplingOptions { Temperature = 1.0, Seed = 3 });
        const int draws = 20000;
        for (int i = 0; i < draws; i++) counts[sampler.Next(logits).Id]++;
        double total = logits.Sum(l => Math.Exp(l));
        for (int i = 0; i < 4; i++)
            Assert.InRange(counts[i] / (double)draws, Math.Exp(logits[i]) / total - 0.015, Math.Exp(logits[i]) / total + 0.015);

        var topTwo = new TokenSampler(new SamplingOptions { TopK = 2, Seed = 1 });
        Assert.All(Enumerable.Range(0, 500), _ => Assert.InRange(topTwo.Next(logits).Id, 0, 1));

        // p(0) ≈ 0.64 < 0.7 ≤ p(0)+p(1): the nucleus keeps exactly the two best.
        var nucleus = new TokenSampler(new SamplingOptions { TopP = 0.7, Seed = 1 });
        var seen = Enumerable.Range(0, 500).Select(_ => nucleus.Next(logits).Id).ToHashSet();
        Assert.Equal([0, 1], seen.Order());
    }

    [Fact]
    public void GenerationStopsAtTheContextLimitAndOnCancellation()
    {
        using var model = TestModels.RandomLoaded();
        var nearlyFull = Enumerable.Repeat(1, model.Config.MaxPositions - 2).ToArray();
        Assert.Equal(2, TextGenerator.Generate(model, nearlyFull, SamplingOptions.Greedy(10)).Count());

        using var cancel = new CancellationTokenSource();
        var tokens = new List<GeneratedToken>();
        Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (var token in TextGenerator.Generate(model, [1, 2], SamplingOptions.Greedy(10), cancel.Token))
            {
                tokens.Add(token);
                if (tokens.Count == 3) cancel.Cancel();
            }
        });
        Assert.Equal(3, tokens.Count);
    }

    [Fact]
    public void BadSamplingSettingsAreRejected()
    {
        using var model = TestModels.RandomLoaded();
        Assert.Throws<ArgumentException>(() => TextGenerator.Generate(model, [1], new SamplingOptions { TopP = 0 }));
        Assert.Throws<ArgumentException>(() => TextGenerator.Generate(model, [1], new SamplingOptions { Temperature = -1 }));
        Assert.Throws<ArgumentException>(() => TextGenerator.Generate(model, [1], new SamplingOptions { MaxNewTokens = 0 }));
    }
}
