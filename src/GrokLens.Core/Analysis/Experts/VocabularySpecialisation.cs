using GrokLens.Tokenization;

namespace GrokLens.Analysis.Experts;

/// <summary>A token among an expert's most routed: how often it went to the expert and what share of its occurrences that is.</summary>
public sealed record ExpertToken(int TokenId, string? Piece, long Occurrences, long Routed, double Share);

/// <summary>
/// How concentrated one token's routing is in a layer: the expert that had it in its top-k most often and the share of
/// the token's occurrences that went there (k/E … 1), and the same for first choices only (1/E … 1).
/// </summary>
public sealed record TokenSpecialisation(int TokenId, string? Piece, long Occurrences, int TopExpert, double TopKShare, int Top1Expert, double Top1Share);

/// <summary>
/// One layer's vocabulary specialisation for one way of naming positions (<see cref="Basis"/>: "input" token or
/// "predicted" token). <see cref="TopKShare"/> and <see cref="Top1Share"/> are OLMoE's metric over every token seen at
/// least MinOccurrences times: Σ (occurrences routed to the token's most frequent expert) / Σ occurrences. The random
/// columns are the same metric for a router with the same expert loads that assigns tokens at random.
/// </summary>
public sealed record VocabularyLayer(int Layer, string Basis, int Tokens, long Occurrences, double TopKShare, double Top1Share,
    double RandomTopKShare, double RandomTop1Share, IReadOnlyList<ExpertToken[]> ExpertTopTokens, IReadOnlyList<TokenSpecialisation> FrequentTokens);

/// <summary>Options of <see cref="VocabularySpecialisationResult.From"/>.</summary>
public sealed record VocabularyOptions
{
    /// <summary>Tokens listed per expert.</summary>
    public int TopTokens { get; init; } = 10;

    /// <summary>Tokens seen fewer times are left out of the metric and the lists (a token seen once is trivially specialised).</summary>
    public int MinOccurrences { get; init; } = 5;

    /// <summary>The most frequent tokens (of at least <see cref="MinOccurrences"/>) listed with their specialisation per layer.</summary>
    public int ListedTokens { get; init; } = 100;

    /// <summary>Seed of the random-router simulation.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// Vocabulary specialisation (OLMoE): per layer, for each expert the tokens routed to it most, and for each token the share
/// of its occurrences that go to its most frequent expert, keyed by input token and by predicted token. The random-router
/// baseline is a seeded simulation: every occurrence of a counted token gets an ordered top-k choice drawn at random from
/// the choices the layer actually made over the whole subset (so expert loads and pairings stay as observed, only the
/// link to the token is broken), and the same metric is computed.
/// </summary>
public sealed record VocabularySpecialisationResult(string Subset, string Baseline, int MinOccurrences, int Seed,
    IReadOnlyList<VocabularyLayer> Layers) : IExpertResult
{
    public const string BaselineDescription =
        "seeded simulation: each occurrence of a counted token draws an ordered top-k choice at random from the layer's observed choices";

    public static VocabularySpecialisationResult From(string subset, ExpertTally tally, ITokenizer? tokenizer, VocabularyOptions? options = null)
    {
        options ??= new VocabularyOptions();
        if (tally.ByInput is null || tally.ByPredicted is null)
            throw new ArgumentException("The tally has no token counts: run the pass with Vocabulary = true.");
        if (options.TopTokens < 1 || options.MinOccurrences < 1 || options.ListedTokens < 0)
            throw new ArgumentException("top tokens and minimum occurrences must be at least 1, listed tokens at least 0.");
        var layers = new List<VocabularyLayer>();
        for (int layer = 0; layer < tally.Routing.Layers; layer++)
        {
            layers.Add(Layer(layer, "input", tally.ByInput, tally.Routing, tokenizer, options));
            layers.Add(Layer(layer, "predicted", tally.ByPredicted, tally.Routing, tokenizer, options));
        }
        return new VocabularySpecialisationResult(subset, BaselineDescription, options.MinOccurrences, options.Seed, layers);
    }

    private static VocabularyLayer Layer(int layer, string basis, TokenExpertCounts counts, RoutingCounts routing, ITokenizer? tokenizer,
        VocabularyOptions options)
    {
        int experts = counts.Experts;
        var all = counts.Tokens(layer).ToList();
        var counted = all.Where(t => t.Occurrences >= options.MinOccurrences).ToList();
        long occurrences = counted.Sum(t => t.Occurrences);
        double topK = occurrences == 0 ? double.NaN : counted.Sum(t => t.TopK.Max()) / (double)occurrences;
        double top1 = occurrences == 0 ? double.NaN : counted.Sum(t => t.Top1.Max()) / (double)occurrences;
        var random = RandomRouter(counted, routing.Choices(layer), experts, options.Seed * 7919 + layer * 2 + (basis == "input" ? 0 : 1));

        string? Piece(int id) => tokenizer?.DisplayPiece(id);
        var perExpert = Enumerable.Range(0, experts).Select(e => all
            .Where(t => t.TopK[e] > 0)
            .OrderByDescending(t => t.TopK[e]).ThenBy(t => t.TokenId)
            .Take(options.TopTokens)
            .Select(t => new ExpertToken(t.TokenId, Piece(t.TokenId), t.Occurrences, t.TopK[e], (double)t.TopK[e] / t.Occurrences))
            .ToArray()).ToList();
        var frequent = counted.OrderByDescending(t => t.Occurrences).ThenBy(t => t.TokenId).Take(options.ListedTokens)
            .Select(t =>
            {
                int best = ArgMax(t.TopK), bestFirst = ArgMax(t.Top1);
                return new TokenSpecialisation(t.TokenId, Piece(t.TokenId), t.Occurrences,
                    best, (double)t.TopK[best] / t.Occurrences, bestFirst, (double)t.Top1[bestFirst] / t.Occurrences);
            }).ToList();
        return new VocabularyLayer(layer, basis, counted.Count, occurrences, topK, top1, random.TopK, random.Top1, perExpert, frequent);
    }

    /// <summary>
    /// The metric under a random router: each occurrence draws an ordered choice with the observed choice frequencies.
    /// Returns (top-k share, top-1 share).
    /// </summary>
    private static (double TopK, double Top1) RandomRouter(IReadOnlyList<TokenRouting> tokens, IReadOnlyDictionary<long, long> choices,
        int experts, int seed)
    {
        var keys = choices.OrderBy(c => c.Key).ToArray();
        var decoded = keys.Select(c => RoutingCounts.ChoiceOf(c.Key, experts)).ToArray();
        var cumulative = new long[keys.Length];
        long running = 0;
        for (int i = 0; i < keys.Length; i++) cumulative[i] = running += keys[i].Value;
        if (running == 0) return (double.NaN, double.NaN);
        var random = new Random(seed);
        long bestTopK = 0, bestTop1 = 0, occurrences = 0;
        var inTopK = new long[experts];
        var first = new long[experts];
        foreach (var token in tokens)
        {
            Array.Clear(inTopK);
            Array.Clear(first);
            for (long n = 0; n < token.Occurrences; n++)
            {
                long draw = random.NextInt64(running);
                int index = Array.BinarySearch(cumulative, draw + 1);
                if (index < 0) index = ~index;
                var chosen = decoded[index];
                first[chosen[0]]++;
                foreach (long e in chosen) inTopK[e]++;
            }
            bestTopK += inTopK.Max();
            bestTop1 += first.Max();
            occurrences += token.Occurrences;
        }
        return occurrences == 0 ? (double.NaN, double.NaN) : ((double)bestTopK / occurrences, (double)bestTop1 / occurrences);
    }

    private static int ArgMax(long[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>
    /// "vocabulary_summary" (layer, basis: the metric and its random baseline), "vocabulary_expert_tokens" (each expert's
    /// most routed tokens) and "vocabulary_tokens" (the most frequent tokens' specialisation).
    /// </summary>
    public IReadOnlyList<ResultTable> Tables() =>
    [
        new("vocabulary_summary", ["subset", "layer", "basis", "tokens", "occurrences", "top_k_share", "random_top_k_share", "top1_share", "random_top1_share"],
            Layers.Select(l => new object?[] { Subset, l.Layer, l.Basis, l.Tokens, l.Occurrences, l.TopKShare, l.RandomTopKShare, l.Top1Share, l.RandomTop1Share })
                .ToList()),
        new("vocabulary_expert_tokens", ["subset", "layer", "basis", "expert", "rank", "token_id", "piece", "occurrences", "routed", "share"],
            Layers.SelectMany(l => l.ExpertTopTokens.SelectMany((tokens, e) => tokens.Select((t, rank) => new object?[]
            {
                Subset, l.Layer, l.Basis, e, rank + 1, t.TokenId, t.Piece, t.Occurrences, t.Routed, t.Share,
            }))).ToList()),
        new("vocabulary_tokens", ["subset", "layer", "basis", "token_id", "piece", "occurrences", "top_expert", "top_k_share", "top1_expert", "top1_share"],
            Layers.SelectMany(l => l.FrequentTokens.Select(t => new object?[]
            {
                Subset, l.Layer, l.Basis, t.TokenId, t.Piece, t.Occurrences, t.TopExpert, t.TopKShare, t.Top1Expert, t.Top1Share,
            })).ToList()),
    ];
}
