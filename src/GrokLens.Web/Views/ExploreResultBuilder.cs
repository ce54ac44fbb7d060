using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Web.Views;

/// <summary>Turns one run (logits + captured activations) into the plain arrays of an <see cref="ExploreResult"/>.</summary>
public static class ExploreResultBuilder
{
    public const int NextTokenCount = 10;
    private const int LensTopK = 3;

    /// <summary>The hooks a run must capture for <see cref="Build"/>.</summary>
    public static IReadOnlyList<string> RequiredHooks(int layers) =>
    [
        .. LogitLens.RequiredHooks(layers),
        .. Enumerable.Range(0, layers).SelectMany(l => new[]
        {
            HookPoints.AttnScoresRaw, HookPoints.AttnScores, HookPoints.Pattern, HookPoints.RouterProbs,
            HookPoints.TopKIndices, HookPoints.TopKWeights, HookPoints.ExpertPost,
        }.Select(suffix => HookPoints.Layer(l, suffix))),
    ];

    public static ExploreResult Build(LoadedModel model, RunResult run, int generatedFrom)
    {
        var config = model.Config;
        int layers = config.NumLayers;
        var cache = run.Cache;
        string Text(int id) => model.Tokenizer?.DisplayPiece(id) ?? $"#{id}";
        string[] Layer(string suffix) => Enumerable.Range(0, layers).Select(l => HookPoints.Layer(l, suffix)).ToArray();

        var lens = LogitLens.Compute(model, cache, LensTopK);
        var residuals = new[] { HookPoints.Embed }.Concat(Layer(HookPoints.ResidPost)).ToArray();

        return new ExploreResult
        {
            ModelName = model.Name,
            Tokens = TokenLabels.Build(run.TokenIds, run.TokenIds.Select(Text).ToArray(), generatedFrom),
            Layers = layers,
            Heads = config.NumHeads,
            Experts = config.NumExperts,
            TopK = config.TopK,
            SoftCap = config.AttnLogitSoftcap,
            Pattern = Layer(HookPoints.Pattern).Select(h => TensorArrays.To3(cache[h])).ToArray(),
            ScoresRaw = Layer(HookPoints.AttnScoresRaw).Select(h => CausalOnly(TensorArrays.To3(cache[h]))).ToArray(),
            ScoresCapped = Layer(HookPoints.AttnScores).Select(h => CausalOnly(TensorArrays.To3(cache[h]))).ToArray(),
            RouterProbs = Layer(HookPoints.RouterProbs).Select(h => TensorArrays.ToRows(cache[h])).ToArray(),
            ChosenExperts = Layer(HookPoints.TopKIndices).Select(h => TensorArrays.ToIntRows(cache[h])).ToArray(),
            GateWeights = Layer(HookPoints.TopKWeights).Select(h => TensorArrays.ToRows(cache[h])).ToArray(),
            ExpertNeurons = Layer(HookPoints.ExpertPost).Select(h => TensorArrays.To3(cache[h])).ToArray(),
            Routing = Layer(HookPoints.TopKIndices).Select((h, l) => Routing(l, cache[h], config.NumExperts)).ToArray(),
            Stages = lens.Stages.ToArray(),
            ResidualNorm = residuals.Select(h => Norms(cache[h])).ToArray(),
            Lens = lens.Top.Select(stage => stage.Select(position =>
                position.Select(p => new Prediction(p.TokenId, Text(p.TokenId), p.Probability)).ToArray()).ToArray()).ToArray(),
            NextTokens = TopTokens(run.Logits, NextTokenCount, Text),
        };
    }

    /// <summary>Scores above the diagonal never reach the softmax (causal mask): blank them (NaN) so colour scales ignore them.</summary>
    private static float[][][] CausalOnly(float[][][] heads)
    {
        foreach (var head in heads)
            for (int q = 0; q < head.Length; q++)
                for (int k = q + 1; k < head[q].Length; k++) head[q][k] = float.NaN;
        return heads;
    }

    private static RoutingStatistics Routing(int layer, Tensor topIndices, int experts)
    {
        using var batched = topIndices.unsqueeze(0);
        return RoutingStatistics.FromTopK(layer, batched, experts);
    }

    private static float[] Norms(Tensor residual)
    {
        using var norms = residual.norm(1);
        return norms.data<float>().ToArray();
    }

    private static Prediction[][] TopTokens(Tensor logits, int count, Func<int, string> text)
    {
        using var scope = NewDisposeScope();
        var (probabilities, ids) = logits.softmax(-1).topk(Math.Min(count, (int)logits.shape[1]), -1);
        var p = TensorArrays.ToRows(probabilities);
        var id = TensorArrays.ToIntRows(ids);
        return p.Select((row, t) => row.Select((value, r) => new Prediction(id[t][r], text(id[t][r]), value)).ToArray()).ToArray();
    }
}
