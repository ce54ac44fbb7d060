using GrokLens.Analysis.Experts;
using GrokLens.Hooks;

namespace GrokLens.Tests.Analysis.Experts;

public class VocabularySpecialisationTests
{
    [Fact]
    public void SharesByInputAndByPredictedTokenAreCountedFromTheRoutingOfEachPosition()
    {
        using var model = TestModels.RandomLoaded();
        // Repeated tokens so that several ids occur often enough to be counted.
        int[][] prompts = [[5, 6, 5, 7, 5, 6, 8, 5, 6, 7], [6, 5, 9, 5, 6, 7, 7, 7, 5]];
        var corpus = new ExpertCorpus([new PromptSubset("p", prompts)]);
        var tally = ExpertPass.Run(model, corpus, new ExpertPassOptions { Vocabulary = true }).Total;
        var result = VocabularySpecialisationResult.From("p", tally, null, new VocabularyOptions { MinOccurrences = 3, TopTokens = 3 });

        // By hand: (token → per-expert top-k counts and top-1 counts) for each layer and basis.
        var expected = new Dictionary<(int Layer, string Basis), Dictionary<int, (long[] TopK, long[] Top1, long N)>>();
        foreach (var prompt in prompts)
        {
            var choices = Float64Router.Choices(model, prompt);
            using var run = model.Run(prompt);
            var predicted = Float64Router.Rows(run.Logits).Select(row => Array.IndexOf(row, row.Max())).ToArray();
            for (int layer = 0; layer < 2; layer++)
                foreach (var (basis, ids) in new[] { ("input", prompt), ("predicted", predicted) })
                {
                    if (!expected.TryGetValue((layer, basis), out var map)) expected[(layer, basis)] = map = new();
                    for (int t = 0; t < ids.Length; t++)
                    {
                        if (!map.TryGetValue(ids[t], out var entry)) entry = (new long[8], new long[8], 0);
                        foreach (int e in choices[layer][t].Experts) entry.TopK[e]++;
                        entry.Top1[choices[layer][t].Experts[0]]++;
                        map[ids[t]] = entry with { N = entry.N + 1 };
                    }
                }
        }
        foreach (var layer in result.Layers)
        {
            var map = expected[(layer.Layer, layer.Basis)];
            var counted = map.Where(p => p.Value.N >= 3).ToList();
            double n = counted.Sum(p => p.Value.N);
            Assert.Equal(counted.Count, layer.Tokens);
            Assert.Equal(counted.Sum(p => p.Value.TopK.Max()) / n, layer.TopKShare, 12);
            Assert.Equal(counted.Sum(p => p.Value.Top1.Max()) / n, layer.Top1Share, 12);
            foreach (var token in layer.FrequentTokens)
            {
                var (topK, top1, occurrences) = map[token.TokenId];
                Assert.Equal(occurrences, token.Occurrences);
                Assert.Equal(topK.Max() / (double)occurrences, token.TopKShare, 12);
                Assert.Equal(topK.Max(), topK[token.TopExpert]);
                Assert.Equal(top1.Max() / (double)occurrences, token.Top1Share, 12);
            }
            for (int e = 0; e < 8; e++)
            {
                var mostRouted = map.Where(p => p.Value.TopK[e] > 0).OrderByDescending(p => p.Value.TopK[e]).ThenBy(p => p.Key).Take(3).Select(p => p.Key);
                Assert.Equal(mostRouted, layer.ExpertTopTokens[e].Select(t => t.TokenId));
            }
        }
    }

    [Fact]
    public void TheRandomRouterBaselineIsTheExpectedMaximumShareOfRandomAssignments()
    {
        // 3,000 tokens seen 4 times each, all routed to expert (id mod 8) first and (id + 1 mod 8) second: fully specialised.
        // A random router with the same loads (uniform) gives E[max count]/4, computed exactly by enumerating 8⁴ outcomes.
        const int tokens = 3000, occurrences = 4, experts = 8;
        var counts = new TokenExpertCounts(1, experts);
        var routing = new RoutingCounts(1, experts);
        var ids = Enumerable.Range(0, tokens).SelectMany(id => Enumerable.Repeat(id, occurrences)).ToArray();
        var indices = ids.SelectMany(id => new long[] { id % experts, (id + 1) % experts }).ToArray();
        counts.Observe(ids, [(indices, 2)]);
        using (var cache = new ActivationCache(
               [
                   new("blocks.0.moe.hook_topk_indices", tensor(indices, [ids.Length, 2])),
                   new("blocks.0.moe.hook_topk_weights", full([ids.Length, 2], 0.5f)),
               ], ids, 0))
            routing.Observe(cache);
        var tally = new ExpertTally(1, experts, new ExpertPassOptions { Vocabulary = true });
        tally.Routing.Add(routing);
        tally.ByInput!.Add(counts);
        tally.ByPredicted!.Add(counts);
        var layer = VocabularySpecialisationResult.From("synthetic", tally, null, new VocabularyOptions { MinOccurrences = 1, Seed = 5 }).Layers[0];

        Assert.Equal(1.0, layer.TopKShare);
        Assert.Equal(1.0, layer.Top1Share);
        // Top-1 choices are uniform over 8 experts; top-k sets are the 8 neighbour pairs {e, e+1}, also uniform.
        double expectedTop1 = 0, expectedTopK = 0;
        for (int outcome = 0; outcome < 4096; outcome++)
        {
            var first = new int[experts];
            var inTopK = new int[experts];
            for (int n = 0, code = outcome; n < occurrences; n++, code /= experts)
            {
                first[code % experts]++;
                inTopK[code % experts]++;
                inTopK[(code % experts + 1) % experts]++;
            }
            expectedTop1 += first.Max() / 4096.0 / occurrences;
            expectedTopK += inTopK.Max() / 4096.0 / occurrences;
        }
        // Standard error over 3,000 tokens: below 0.004; allow four of them.
        Assert.Equal(expectedTop1, layer.RandomTop1Share, 0.016);
        Assert.Equal(expectedTopK, layer.RandomTopKShare, 0.016);
        // Seeded: the same again.
        var again = VocabularySpecialisationResult.From("synthetic", tally, null, new VocabularyOptions { MinOccurrences = 1, Seed = 5 }).Layers[0];
        Assert.Equal(layer.RandomTop1Share, again.RandomTop1Share);
    }
}
