using GrokLens.Analysis;
using GrokLens.Training;

namespace GrokLens.Tests.Training;

public class EvaluatorTests
{
    [Fact]
    public void BigramBaselineMatchesHandComputation()
    {
        // Train [1, 2, 1, 1], V = 3: N = 4, unigram P1 = (c+1)/(N+V) = 1/7, 4/7, 2/7 for tokens 0, 1, 2.
        // Context 1: c = 2, followers {2, 1} (u = 2); context 2: c = 1, followers {1} (u = 1); context 0 unseen.
        var bigram = new BigramBaseline([1, 2, 1, 1], 3);
        Assert.Equal(11.0 / 28, bigram.Probability(1, 2), 12); // (1 + 2·2/7) / (2 + 2)
        Assert.Equal(11.0 / 14, bigram.Probability(2, 1), 12); // (1 + 1·4/7) / (1 + 1)
        Assert.Equal(1.0 / 14, bigram.Probability(1, 0), 12);  // (0 + 2·1/7) / 4
        Assert.Equal(2.0 / 7, bigram.Probability(0, 2), 12);   // unseen context → unigram
        double expected = -(Math.Log(11.0 / 28) + Math.Log(11.0 / 14) + Math.Log(1.0 / 14) + Math.Log(2.0 / 7)) / 4;
        Assert.Equal(expected, bigram.CrossEntropy([1, 2, 1, 0, 2]), 12);
        for (int a = 0; a < 3; a++) Assert.Equal(1.0, Enumerable.Range(0, 3).Sum(b => bigram.Probability(a, b)), 12);
    }

    [Fact]
    public void RandomRouterOnRandomInputsReproducesTheBaselineRates()
    {
        Assert.Equal(0.125, RoutingStatistics.RandomSameFirstExpertRate(8));
        Assert.Equal(13.0 / 28, RoutingStatistics.RandomTopKOverlapRate(8, 2), 12);
        using var generator = new Generator(42);
        // Random inputs through a random router whose expert rows are orthonormal (no expert favoured).
        using var x = randn([4, 4096, 32], generator: generator);
        var (q, _) = linalg.qr(randn([32, 8], generator: generator));
        using var router = q.t().mul(2.0);
        using var probs = nn.functional.softmax(nn.functional.linear(x, router), -1);
        var (_, indices) = probs.topk(2, -1);
        var stats = RoutingStatistics.FromTopK(0, indices, 8);
        Assert.InRange(stats.SameFirstExpertRate, 0.125 - 0.01, 0.125 + 0.01);
        Assert.InRange(stats.TopKOverlapRate, 13.0 / 28 - 0.015, 13.0 / 28 + 0.015);
        Assert.Equal(1.0, stats.ExpertShares.Sum(), 9);
        Assert.Equal(4 * 4096, stats.Tokens);
    }

    [Fact]
    public void ConsecutiveRatesCountHandMadeRoutes()
    {
        // One row of 4 tokens, top-2: (0,1) (0,2) (3,4) (4,3): pairs share first 1/3, overlap 2/3.
        using var indices = tensor(new long[] { 0, 1, 0, 2, 3, 4, 4, 3 }, [1, 4, 2]);
        var stats = RoutingStatistics.FromTopK(0, indices, 8);
        Assert.Equal(1.0 / 3, stats.SameFirstExpertRate, 12);
        Assert.Equal(2.0 / 3, stats.TopKOverlapRate, 12);
        Assert.Equal(2.0 / 8, stats.ExpertShares[0]);
    }

    [Fact]
    public void PreviousTokenAndInductionScoresOfHandBuiltPatterns()
    {
        const int length = 4;
        var values = new float[2 * length * length];
        for (int q = 0; q < length; q++)
        {
            values[q * length + Math.Max(0, q - 1)] = 1;                                   // head 0: previous token
            for (int k = 0; k <= q; k++) values[length * length + q * length + k] = 1f / (q + 1); // head 1: uniform causal
        }
        using var pattern = tensor(values, [1, 2, length, length]);
        var scores = HeadScores.PreviousToken(pattern);
        Assert.Equal(1.0, scores[0], 6);
        Assert.Equal((1.0 / 2 + 1.0 / 3 + 1.0 / 4) / 3, scores[1], 6);

        // BOS + 3 tokens repeated: L = 7. Head 0 attends from q ≥ 4 to q − 2 (the token after the earlier copy).
        const int n = 3, total = 1 + 2 * n;
        var induction = new float[total * total];
        for (int q = 0; q < total; q++) induction[q * total + (q >= 1 + n ? q - n + 1 : 0)] = 1;
        using var inductionPattern = tensor(induction, [1, 1, total, total]);
        Assert.Equal(1.0, HeadScores.Induction(inductionPattern, n, 1)[0], 6);
        var best = new HeadScores("x", [[0.1, 0.7], [0.3, 0.2]]).Best;
        Assert.Equal((0, 1, 0.7), best);
    }

    [Fact]
    public void ModelMeasurementsRunOnATinyModel()
    {
        using var model = TestModels.Random(TestModels.SmallConfig(vocab: 97));
        var ids = Enumerable.Range(0, 300).Select(i => 4 + i * 7 % 93).ToArray();
        double loss = Evaluator.ValidationLoss(model, ids, 16, 4, 200);
        Assert.InRange(loss, 1, 20);
        var routing = RoutingAnalysis.ForWindows(model, ids, 16, 4, 200);
        Assert.Equal(2, routing.Count);
        Assert.All(routing, r => Assert.Equal(1.0, r.ExpertShares.Sum(), 6));
        var previous = HeadScoring.PreviousToken(model, ids, 16);
        Assert.Equal(2, previous.Scores.Length);
        Assert.Equal(4, previous.Scores[0].Length);
        var induction = HeadScoring.Induction(model, repeatLength: 10, sequences: 4, seed: 0, bosId: 1);
        Assert.All(induction.Scores.SelectMany(s => s), s => Assert.InRange(s, 0, 1));
    }
}
