using GrokLens.Analysis.Experts;

namespace GrokLens.Tests.Analysis.Experts;

public class ExpertLoadTests
{
    internal static readonly int[][] SetA = [[5, 17, 3, 88, 42, 9, 61, 23], [1, 2, 3, 4, 5, 6], [44]];
    internal static readonly int[][] SetB = [[70, 71, 72, 73, 74], [90, 12, 33, 44, 55, 66, 77, 88, 11, 22]];

    internal static ExpertCorpus Corpus() => new([new PromptSubset("a", SetA), new PromptSubset("b", SetB)]);

    [Fact]
    public void LoadSharesChiSquareAndKlAreThoseOfAFloat64Router()
    {
        using var model = TestModels.RandomLoaded();
        var load = ExpertLoadResult.From(ExpertPass.Run(model, Corpus(), new ExpertPassOptions()), model.Config.TopK);

        Assert.Equal(["a", "b", "all"], load.Subsets.Select(s => s.Subset));
        var expectedAll = new long[2][];
        foreach (var (name, prompts) in new[] { ("a", SetA), ("b", SetB) })
        {
            var subset = load.Subsets.Single(s => s.Subset == name);
            Assert.Equal(prompts.Sum(p => p.Length), subset.Tokens);
            for (int layer = 0; layer < 2; layer++)
            {
                var counts = new long[8];
                var first = new long[8];
                foreach (var prompt in prompts)
                    foreach (var (experts, _) in Float64Router.Choices(model, prompt)[layer])
                    {
                        first[experts[0]]++;
                        foreach (int e in experts) counts[e]++;
                    }
                var row = subset.Layers[layer];
                Assert.Equal(counts, row.Counts);
                Assert.Equal(first, row.Top1Counts);
                double n = counts.Sum(), expected = n / 8;
                Assert.Equal(counts.Sum(c => (c - expected) * (c - expected) / expected), row.ChiSquare, 9);
                double kl = 0;
                for (int e = 0; e < 8; e++)
                    if (counts[e] > 0) kl += counts[e] / n * Math.Log(counts[e] / n / (1.0 / 8));
                Assert.Equal(kl, row.KlFromUniform, 12);
                Assert.Equal(1.0, row.Shares.Sum(), 12);
                expectedAll[layer] = expectedAll[layer] is null ? counts : expectedAll[layer].Zip(counts, (x, y) => x + y).ToArray();
            }
        }
        var all = load.Subsets.Single(s => s.Subset == "all");
        for (int layer = 0; layer < 2; layer++) Assert.Equal(expectedAll[layer], all.Layers[layer].Counts);

        var table = load.Tables()[0];
        Assert.Equal(3 * 2 * 8, table.Rows.Count);
        Assert.StartsWith("subset,layer,expert,assignments,share,top1_count,top1_share,uniform_share\r\na,0,0,", table.ToCsv());
    }

    [Fact]
    public void CoActivationIsTheConditionalAndPairRateOfAFloat64Router()
    {
        using var model = TestModels.RandomLoaded();
        var tallies = ExpertPass.Run(model, Corpus(), new ExpertPassOptions());
        var result = CoActivationResult.From("all", tallies.Total.Routing, 2);

        var sets = SetA.Concat(SetB).SelectMany(p => Enumerable.Range(0, 2).Select(l => (l, Float64Router.Choices(model, p)[l]))).ToList();
        long tokens = SetA.Concat(SetB).Sum(p => p.Length);
        for (int layer = 0; layer < 2; layer++)
        {
            var chosen = sets.Where(s => s.l == layer).SelectMany(s => s.Item2).Select(c => c.Experts).ToList();
            var row = result.Layers[layer];
            for (int a = 0; a < 8; a++)
                for (int b = 0; b < 8; b++)
                {
                    long withA = chosen.Count(c => c.Contains(a)), withB = chosen.Count(c => c.Contains(b));
                    long both = chosen.Count(c => c.Contains(a) && c.Contains(b));
                    Assert.Equal(both, row.Together[a][b]);
                    if (withA == 0) Assert.Null(row.ConditionalProbability[a][b]);
                    else Assert.Equal((double)both / withA, row.ConditionalProbability[a][b]!.Value, 12);
                    if (a == b || withA == 0 || withB == 0) Assert.Null(row.ObservedOverIndependent[a][b]);
                    else Assert.Equal(((double)both / tokens) / ((double)withA / tokens * withB / tokens), row.ObservedOverIndependent[a][b]!.Value, 9);
                }
        }
        Assert.Equal(8.0 * 1 / (2 * 7), result.RandomObservedOverIndependent, 12);
        Assert.Equal(1.0 / 7, result.RandomConditionalProbability, 12);
    }

    [Fact]
    public void AUniformRandomRouterGivesTheCoActivationBaselines()
    {
        // Top-2 of 8 chosen uniformly at random for 40,000 tokens: P(b | a) → 1/7 and observed/independent → 4/7.
        var random = new Random(3);
        var counts = new RoutingCounts(1, 8);
        var indices = new long[40000 * 2];
        for (int t = 0; t < 40000; t++)
        {
            var pair = Enumerable.Range(0, 8).OrderBy(_ => random.Next()).Take(2).ToArray();
            indices[2 * t] = pair[0];
            indices[2 * t + 1] = pair[1];
        }
        using var cache = new GrokLens.Hooks.ActivationCache(
        [
            new("blocks.0.moe.hook_topk_indices", tensor(indices, [40000, 2])),
            new("blocks.0.moe.hook_topk_weights", full([40000, 2], 0.5f)),
        ], new int[40000], 0);
        counts.Observe(cache);
        var layer = CoActivationResult.From("random", counts, 2).Layers[0];
        for (int a = 0; a < 8; a++)
            for (int b = 0; b < 8; b++)
            {
                if (a == b) continue;
                Assert.Equal(1.0 / 7, layer.ConditionalProbability[a][b]!.Value, 0.02);
                Assert.Equal(4.0 / 7, layer.ObservedOverIndependent[a][b]!.Value, 0.08);
            }
    }
}
