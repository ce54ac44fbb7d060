using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Web.Views;

/// <summary>Turns one run (logits + captured activations) into the plain arrays of an <see cref="ExploreResult"/>.</summary>
public static class ExploreResultBuilder
{
    public const int NextTokenCount = 10;
    public const int LensTopK = 3;

    /// <summary>The hooks a live run must capture for <see cref="Build(IModelEngine, RunResult, int)"/>.</summary>
    public static IReadOnlyList<string> RequiredHooks(int layers) =>
    [
        .. LogitLens.RequiredHooks(layers),
        .. Enumerable.Range(0, layers).SelectMany(l => new[]
        {
            HookPoints.AttnScoresRaw, HookPoints.AttnScores, HookPoints.Pattern, HookPoints.RouterProbs,
            HookPoints.TopKIndices, HookPoints.TopKWeights, HookPoints.ExpertPost,
        }.Select(suffix => HookPoints.Layer(l, suffix))),
    ];

    /// <summary>The hooks each view needs, by view name (the views' <c>data-view</c> families).</summary>
    public static IReadOnlyDictionary<string, string[]> ViewHooks(int layers)
    {
        string[] Layer(params string[] suffixes) =>
            Enumerable.Range(0, layers).SelectMany(l => suffixes.Select(s => HookPoints.Layer(l, s))).ToArray();
        return new Dictionary<string, string[]>
        {
            // The probabilities alone draw the view; the score modes appear when the scores are there too.
            [AttentionView] = Layer(HookPoints.Pattern),
            [RouterView] = Layer(HookPoints.RouterProbs, HookPoints.TopKIndices, HookPoints.TopKWeights),
            [LensView] = [.. LogitLens.RequiredHooks(layers), HookPoints.Logits],
            [ActivationsView] = [HookPoints.Embed, .. Layer(HookPoints.ResidPost, HookPoints.ExpertPost)],
        };
    }

    /// <summary>For each view, the hooks it needs that <paramref name="has"/> lacks (empty: the view can be drawn).</summary>
    public static IReadOnlyDictionary<string, string[]> MissingHooks(int layers, Func<string, bool> has) =>
        ViewHooks(layers).ToDictionary(view => view.Key, view => view.Value.Where(h => !has(h)).ToArray());

    /// <summary>"needs hooks a, b (and 3 more)": the missing hooks of a view, at most six named.</summary>
    public static string Needs(IReadOnlyList<string> missing) =>
        $"needs hook{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Take(6))}{(missing.Count > 6 ? $" (and {missing.Count - 6} more)" : "")}";

    public const string AttentionView = "Attention";
    public const string RouterView = "Router and experts";
    public const string LensView = "Logit lens";
    public const string ActivationsView = "Activations";

    /// <summary>A live run of the loaded model.</summary>
    public static ExploreResult Build(IModelEngine model, RunResult run, int generatedFrom) =>
        Build(new ExploreSource(model.Config, model.Name, run.TokenIds, Text(model.Tokenizer), run.Cache, run.Logits,
            cache => LogitLens.Compute(model, cache, LensTopK)), generatedFrom);

    /// <summary>Visible token text from the model's tokenizer, or "#id" without one.</summary>
    public static Func<int, string> Text(GrokLens.Tokenization.ITokenizer? tokenizer) => id => tokenizer?.DisplayPiece(id) ?? $"#{id}";

    /// <summary>
    /// Any source of captured activations (a live run or an opened dump). A view whose hooks are not all in the cache
    /// gets empty arrays and a message naming the missing hooks in <see cref="ExploreResult.Unavailable"/>.
    /// </summary>
    public static ExploreResult Build(ExploreSource source, int generatedFrom)
    {
        var config = source.Config;
        int layers = config.NumLayers;
        var cache = source.Cache;
        var text = source.Text;
        string[] Layer(string suffix) => Enumerable.Range(0, layers).Select(l => HookPoints.Layer(l, suffix)).ToArray();

        var unavailable = new Dictionary<string, string>();
        foreach (var (view, missing) in MissingHooks(layers, h => h == HookPoints.Logits ? source.Logits is not null : cache.Contains(h)))
            if (missing.Length > 0) unavailable[view] = $"The {view} view {Needs(missing)}, which this dump does not hold.";
        if (!unavailable.ContainsKey(LensView) && source.Lens is null)
            unavailable[LensView] = source.LensUnavailable ?? "The logit lens needs the model's weights.";
        bool Has(string view) => !unavailable.ContainsKey(view);
        bool HasScores() => Layer(HookPoints.AttnScoresRaw).Concat(Layer(HookPoints.AttnScores)).All(cache.Contains);

        var lens = Has(LensView) ? source.Lens!(cache) : null;
        var residuals = new[] { HookPoints.Embed }.Concat(Layer(HookPoints.ResidPost)).ToArray();

        return new ExploreResult
        {
            ModelName = source.ModelName,
            Tokens = TokenLabels.Build(source.TokenIds, source.TokenIds.Select(text).ToArray(), generatedFrom),
            Layers = layers,
            Heads = config.NumHeads,
            Experts = config.NumExperts,
            TopK = config.TopK,
            SoftCap = config.AttnLogitSoftcap,
            Unavailable = unavailable,
            Pattern = Has(AttentionView) ? Layer(HookPoints.Pattern).Select(h => TensorArrays.To3(cache[h])).ToArray() : [],
            ScoresRaw = Has(AttentionView) && HasScores() ? Layer(HookPoints.AttnScoresRaw).Select(h => CausalOnly(TensorArrays.To3(cache[h]))).ToArray() : [],
            ScoresCapped = Has(AttentionView) && HasScores() ? Layer(HookPoints.AttnScores).Select(h => CausalOnly(TensorArrays.To3(cache[h]))).ToArray() : [],
            RouterProbs = Has(RouterView) ? Layer(HookPoints.RouterProbs).Select(h => TensorArrays.ToRows(cache[h])).ToArray() : [],
            ChosenExperts = Has(RouterView) ? Layer(HookPoints.TopKIndices).Select(h => TensorArrays.ToIntRows(cache[h])).ToArray() : [],
            GateWeights = Has(RouterView) ? Layer(HookPoints.TopKWeights).Select(h => TensorArrays.ToRows(cache[h])).ToArray() : [],
            ExpertNeurons = Has(ActivationsView) ? Layer(HookPoints.ExpertPost).Select(h => TensorArrays.To3(cache[h])).ToArray() : [],
            Routing = Has(RouterView) ? Layer(HookPoints.TopKIndices).Select((h, l) => Routing(l, cache[h], config.NumExperts)).ToArray() : [],
            Stages = ["embed", .. Enumerable.Range(0, layers).Select(l => $"layer {l}")],
            ResidualNorm = Has(ActivationsView) ? residuals.Select(h => Norms(cache[h])).ToArray() : [],
            Lens = lens is null ? [] : lens.Top.Select(stage => stage.Select(position =>
                position.Select(p => new Prediction(p.TokenId, text(p.TokenId), p.Probability)).ToArray()).ToArray()).ToArray(),
            NextTokens = Has(LensView) ? TopTokens(source.Logits!, NextTokenCount, text) : [],
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
