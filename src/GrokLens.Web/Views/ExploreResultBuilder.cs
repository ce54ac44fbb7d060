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
    /// <summary>The hooks of <see cref="RequiredHooks(int)"/> plus Grok-2's: raw router logits (router cap), dense and expert outputs.</summary>
    public static IReadOnlyList<string> RequiredHooks(GrokLens.Model.GrokConfig config) =>
    [
        .. RequiredHooks(config.NumLayers),
        .. Enumerable.Range(0, config.NumLayers).SelectMany(l => Grok2Suffixes(config).Select(suffix => HookPoints.Layer(l, suffix))),
    ];

    private static IEnumerable<string> Grok2Suffixes(GrokLens.Model.GrokConfig config)
    {
        if (config.RouterLogitSoftcap > 0) yield return HookPoints.RouterLogits;
        if (config.ResidualMoe)
        {
            yield return HookPoints.MlpOut;
            yield return HookPoints.MoeOut;
        }
    }

    public static IReadOnlyList<string> RequiredHooks(int layers) =>
    [
        .. LogitLens.RequiredHooks(layers),
        .. Enumerable.Range(0, layers).SelectMany(l => new[]
        {
            HookPoints.AttnScoresRaw, HookPoints.AttnScores, HookPoints.Pattern, HookPoints.RouterProbs,
            HookPoints.TopKIndices, HookPoints.TopKWeights, HookPoints.ExpertPost,
        }.Select(suffix => HookPoints.Layer(l, suffix))),
    ];

    /// <summary>The hooks each view needs, by view name (the views' <c>data-view</c> families): per-layer suffixes and global hooks.</summary>
    private static readonly Dictionary<string, (string[] PerLayer, string[] Global)> ViewNeeds = new()
    {
        // The probabilities alone draw the view; its score modes appear when the scores are there too.
        [AttentionView] = ([HookPoints.Pattern], []),
        [RouterView] = ([HookPoints.RouterProbs, HookPoints.TopKIndices, HookPoints.TopKWeights], []),
        [LensView] = ([HookPoints.ResidPost], [HookPoints.Embed, HookPoints.Logits]),
        [ActivationsView] = ([HookPoints.ResidPost, HookPoints.ExpertPost], [HookPoints.Embed]),
    };

    private static IEnumerable<string> Needed((string[] PerLayer, string[] Global) needs, int layers) =>
        needs.Global.Concat(Enumerable.Range(0, layers).SelectMany(l => needs.PerLayer.Select(s => HookPoints.Layer(l, s))));

    /// <summary>
    /// The hooks a view lacks: a count and the first few names. Counted from the hooks present, so a config claiming a
    /// million layers costs nothing: only as many names are made as the message shows.
    /// </summary>
    private static (long Count, List<string> First) Missing((string[] PerLayer, string[] Global) needs, int layers, Func<string, bool> has,
        IReadOnlyList<string> present)
    {
        long needed = needs.Global.Length + (long)layers * needs.PerLayer.Length;
        long found = needs.Global.Count(has) + present.Count(h =>
            HookPoints.TryParseLayer(h, out int l, out var suffix) && l < layers && needs.PerLayer.Contains(suffix));
        var first = needed == found ? [] : Needed(needs, layers).Where(h => !has(h)).Take(6).ToList();
        return (needed - found, first);
    }

    /// <summary>
    /// For each view, what it lacks among the hooks <paramref name="present"/>: null when it can be drawn, else "needs
    /// hooks a, b (and 3 more)". The download dialog shows this for a selection before the dump is made.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> Lacking(int layers, IReadOnlyList<string> present, Func<string, bool> has) =>
        ViewNeeds.ToDictionary(view => view.Key, view => Missing(view.Value, layers, has, present) is { Count: > 0 } missing
            ? $"needs hook{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.First)}" +
              (missing.Count > missing.First.Count ? $" (and {missing.Count - missing.First.Count:N0} more)" : "")
            : null);

    public const string AttentionView = "Attention";
    public const string RouterView = "Router and experts";
    public const string LensView = "Logit lens";
    public const string ActivationsView = "Activations";

    /// <summary>A live run of a model.</summary>
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
        bool Present(string hook) => hook == HookPoints.Logits ? source.Logits is not null : cache.Contains(hook);
        foreach (var (view, lacks) in Lacking(layers, cache.Names, Present))
            if (lacks is not null) unavailable[view] = $"The {view} view {lacks}, which this dump does not hold.";
        var nonFinite = ViewNeeds.Keys.Where(v => !unavailable.ContainsKey(v))
            .ToDictionary(v => v, v => Needed(ViewNeeds[v], layers).Sum(h => NonFinite(h == HookPoints.Logits ? source.Logits! : cache[h])));
        if (!unavailable.ContainsKey(LensView) && source.Lens is null)
            unavailable[LensView] = source.LensUnavailable ?? "The logit lens needs the model's weights.";
        bool Has(string view) => !unavailable.ContainsKey(view);
        bool HasScores() => Layer(HookPoints.AttnScoresRaw).Concat(Layer(HookPoints.AttnScores)).All(cache.Contains);

        var lens = Has(LensView) ? source.Lens!(cache) : null;

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
            NonFinite = nonFinite,
            Pattern = Has(AttentionView) ? Layer(HookPoints.Pattern).Select(h => TensorArrays.To3(cache[h])).ToArray() : [],
            ScoresRaw = Has(AttentionView) && HasScores() ? Layer(HookPoints.AttnScoresRaw).Select(h => CausalOnly(TensorArrays.To3(cache[h]))).ToArray() : [],
            ScoresCapped = Has(AttentionView) && HasScores() ? Layer(HookPoints.AttnScores).Select(h => CausalOnly(TensorArrays.To3(cache[h]))).ToArray() : [],
            RouterProbs = Has(RouterView) ? Layer(HookPoints.RouterProbs).Select(h => TensorArrays.ToRows(cache[h])).ToArray() : [],
            RouterProbsUncapped = Has(RouterView) && config.RouterLogitSoftcap > 0 && Layer(HookPoints.RouterLogits).All(cache.Contains)
                ? Layer(HookPoints.RouterLogits).Select(h => Softmax(cache[h])).ToArray() : [],
            DenseShare = config.ResidualMoe && Layer(HookPoints.MlpOut).Concat(Layer(HookPoints.MoeOut)).All(cache.Contains)
                ? Enumerable.Range(0, layers).Select(l => DenseShareOf(cache[HookPoints.Layer(l, HookPoints.MlpOut)], cache[HookPoints.Layer(l, HookPoints.MoeOut)])).ToArray()
                : [],
            ChosenExperts = Has(RouterView) ? Layer(HookPoints.TopKIndices).Select(h => TensorArrays.ToIntRows(cache[h])).ToArray() : [],
            GateWeights = Has(RouterView) ? Layer(HookPoints.TopKWeights).Select(h => TensorArrays.ToRows(cache[h])).ToArray() : [],
            ExpertNeurons = Has(ActivationsView) ? Layer(HookPoints.ExpertPost).Select(h => TensorArrays.To3(cache[h])).ToArray() : [],
            Routing = Has(RouterView) ? Layer(HookPoints.TopKIndices).Select((h, l) => Routing(l, cache[h], config.NumExperts)).ToArray() : [],
            // Every view needs all layers: with none available, a claimed layer count is not backed by any tensor.
            Stages = unavailable.Count == ViewNeeds.Count ? [] : ["embed", .. Enumerable.Range(0, layers).Select(l => $"layer {l}")],
            ResidualNorm = Has(ActivationsView) ? [Norms(cache[HookPoints.Embed]), .. Layer(HookPoints.ResidPost).Select(h => Norms(cache[h]))] : [],
            Lens = lens is null ? [] : lens.Top.Select(stage => stage.Select(position =>
                position.Select(p => new Prediction(p.TokenId, text(p.TokenId), p.Probability)).ToArray()).ToArray()).ToArray(),
            NextTokens = Has(LensView) ? TopTokens(source.Logits!, NextTokenCount, text) : [],
        };
    }

    /// <summary>Rows of softmax over the last dimension (float32, as the router computes its probabilities).</summary>
    private static float[][] Softmax(Tensor logits)
    {
        using var probabilities = logits.to_type(ScalarType.Float32).softmax(-1);
        return TensorArrays.ToRows(probabilities);
    }

    /// <summary>Per token ‖dense‖ / (‖dense‖ + ‖experts‖) of the two feed-forward branches [T, D].</summary>
    private static float[] DenseShareOf(Tensor dense, Tensor experts)
    {
        using var scope = NewDisposeScope();
        var denseNorm = dense.to_type(ScalarType.Float32).norm(-1);
        var share = denseNorm / (denseNorm + experts.to_type(ScalarType.Float32).norm(-1));
        return share.data<float>().ToArray();
    }

    /// <summary>How many NaN or ±∞ values a tensor holds (an overflowing model, or a dump that stored them).</summary>
    private static long NonFinite(Tensor values)
    {
        if (!values.is_floating_point()) return 0;
        using var finite = values.isfinite();
        using var count = finite.sum();
        return values.numel() - count.item<long>();
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
