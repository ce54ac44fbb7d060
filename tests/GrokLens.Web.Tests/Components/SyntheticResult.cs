using GrokLens.Analysis;
using GrokLens.Web.Views;

namespace GrokLens.Web.Tests.Components;

/// <summary>A small hand-made result (top-2 routing chosen from given router probabilities) for exact component checks.</summary>
public static class SyntheticResult
{
    public static ExploreResult WithRouter(string[] tokens, float[][][] routerProbs)
    {
        int layers = routerProbs.Length, length = tokens.Length, experts = routerProbs[0][0].Length;
        int[][][] chosen = routerProbs.Select(l => l.Select(p =>
            Enumerable.Range(0, experts).OrderByDescending(e => p[e]).Take(2).ToArray()).ToArray()).ToArray();
        float[][][] gates = chosen.Select((l, layer) => l.Select((c, t) => c.Select(e => routerProbs[layer][t][e]).ToArray()).ToArray()).ToArray();
        float[][][] Square(float v) => [Enumerable.Range(0, length).Select(_ => Enumerable.Repeat(v, length).ToArray()).ToArray()];
        return new ExploreResult
        {
            ModelName = "synthetic",
            Tokens = TokenLabels.Build(Enumerable.Range(100, length).ToArray(), tokens, length),
            Layers = layers, Heads = 1, Experts = experts, TopK = 2, SoftCap = 30,
            Pattern = Enumerable.Range(0, layers).Select(_ => Square(1f / length)).ToArray(),
            ScoresRaw = Enumerable.Range(0, layers).Select(_ => Square(0)).ToArray(),
            ScoresCapped = Enumerable.Range(0, layers).Select(_ => Square(0)).ToArray(),
            RouterProbs = routerProbs,
            ChosenExperts = chosen,
            GateWeights = gates,
            ExpertNeurons = chosen.Select(l => l.Select(_ => new[] { new[] { 1f, -3f }, new[] { 2f, 0.5f } }).ToArray()).ToArray(),
            Routing = Enumerable.Range(0, layers).Select(l => new RoutingStatistics(l, new double[experts], 0, 0, length)).ToArray(),
            Stages = ["embed", .. Enumerable.Range(0, layers).Select(l => $"layer {l}")],
            ResidualNorm = Enumerable.Range(0, layers + 1).Select(_ => new float[length]).ToArray(),
            Lens = Enumerable.Range(0, layers + 1).Select(_ => Enumerable.Range(0, length).Select(_ => new[] { new Prediction(1, "x", 0.5f) }).ToArray()).ToArray(),
            NextTokens = Enumerable.Range(0, length).Select(_ => new[] { new Prediction(1, "x", 0.5f) }).ToArray(),
        };
    }
}
