using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Analysis;

/// <summary>One side of a comparison: a prompt, the interventions applied to it, and the source run they patch from.</summary>
public sealed record ComparedRun(IReadOnlyList<int> TokenIds, IReadOnlyList<Intervention>? Interventions = null,
    ActivationCache? Source = null);

/// <summary>What a comparison reports beyond the always-computed parts.</summary>
public sealed record ComparisonOptions
{
    /// <summary>Top tokens listed for each run's next-token distribution.</summary>
    public int TopTokens { get; init; } = 10;

    /// <summary>A token whose logit and probability are compared.</summary>
    public int? Target { get; init; }

    /// <summary>With <see cref="Target"/>: the logit difference logit(target) − logit(other) is compared (IOI-style).</summary>
    public int? OtherTarget { get; init; }

    /// <summary>
    /// The default near-tie margin everywhere (library, CLI, workbench), measured: on grok-tiny it marks 8 % of router
    /// cells, among them every choice that noise of bf16's precision on the router logits flips (docs/workbench.md).
    /// </summary>
    public const double DefaultNearTieThreshold = 0.005;

    /// <summary>Router probability gap below which the k-th and (k+1)-th experts count as a near-tie.</summary>
    public double NearTieThreshold { get; init; } = DefaultNearTieThreshold;

    /// <summary>Compare attention patterns per head (only when both prompts have the same length).</summary>
    public bool Attention { get; init; } = true;

    /// <summary>Tokens to generate from both runs with the same seed; 0 skips generation.</summary>
    public int GenerateTokens { get; init; }

    /// <summary>Sampling for the generation (its MaxNewTokens is replaced by <see cref="GenerateTokens"/>).</summary>
    public SamplingOptions Sampling { get; init; } = new();
}

/// <summary>
/// A run already made, live or read from a dump: its tokens, captured activations, logits [T, V] (null when they were
/// not captured) and the descriptions of the interventions applied to it.
/// </summary>
public sealed record CapturedRun(IReadOnlyList<int> TokenIds, ActivationCache Cache, Tensor? Logits = null,
    IReadOnlyList<string>? Interventions = null);

/// <summary>Compares a baseline run with a modified one (other interventions, or another prompt).</summary>
public static class RunComparison
{
    /// <summary>At most this many missing hooks are listed per part, plus one to show that there are more.</summary>
    public const int MaxListedMissing = 64;

    /// <summary>Keys of <see cref="RunComparisonResult.MissingHooks"/>: the parts a comparison of captured runs may lack.</summary>
    public const string NextTokenPart = "next token";
    public const string ResidualPart = "residual";
    public const string RoutingPart = "routing";
    public const string NearTiesPart = "near-ties";
    public const string AttentionPart = "attention";

    /// <summary>Same prompt, without and with interventions.</summary>
    public static RunComparisonResult Compare(IModelEngine model, IReadOnlyList<int> tokenIds, IReadOnlyList<Intervention> interventions,
        ComparisonOptions? options = null, ActivationCache? source = null) =>
        Compare(model, new ComparedRun(tokenIds), new ComparedRun(tokenIds, interventions, source), options);

    /// <summary>Runs both sides on the model (capturing what every part needs), compares them and, if asked, generates from both.</summary>
    public static RunComparisonResult Compare(IModelEngine model, ComparedRun a, ComparedRun b, ComparisonOptions? options = null) =>
        Compare(model, a, b, options, [], null);

    /// <summary>
    /// As <see cref="Compare(IModelEngine, ComparedRun, ComparedRun, ComparisonOptions?)"/>, each side run once: both runs,
    /// capturing every hook the parts need plus <paramref name="alsoCapture"/>, are handed to <paramref name="inspect"/>
    /// (before they are disposed) so a caller can read more from them without running the sides again.
    /// </summary>
    public static RunComparisonResult Compare(IModelEngine model, ComparedRun a, ComparedRun b, ComparisonOptions? options,
        IEnumerable<string> alsoCapture, Action<RunResult, RunResult>? inspect)
    {
        options ??= new ComparisonOptions();
        var config = model.Config;
        CheckOptions(config, options);
        bool sameLength = a.TokenIds.Count == b.TokenIds.Count;
        var capture = new List<string> { HookPoints.Embed };
        for (int l = 0; l < config.NumLayers; l++)
        {
            capture.Add(HookPoints.Layer(l, HookPoints.ResidPost));
            capture.Add(HookPoints.Layer(l, HookPoints.RouterProbs));
            capture.Add(HookPoints.Layer(l, HookPoints.TopKIndices));
            if (options.Attention && sameLength) capture.Add(HookPoints.Layer(l, HookPoints.Pattern));
        }
        capture = [.. capture.Union(alsoCapture)];
        using var runA = RunSide(model, a, capture);
        using var runB = RunSide(model, b, capture);
        var result = Compare(config, Captured(a, runA), Captured(b, runB), options with { GenerateTokens = 0 },
            id => model.Tokenizer?.DisplayPiece(id));
        inspect?.Invoke(runA, runB);
        return options.GenerateTokens > 0 ? result with { Generation = Generate(model, a, b, options) } : result;
    }

    /// <summary>
    /// Compares two runs already made (e.g. read from dumps) without a model: every part whose hooks both captures hold.
    /// A part whose hooks are missing is null, and <see cref="RunComparisonResult.MissingHooks"/> names the hooks it needs
    /// (the next-token part needs the logits). Near-ties are marked where both runs hold the router probabilities.
    /// </summary>
    /// <param name="tokenText">Text of a token id for the top-token lists (null: no text).</param>
    public static RunComparisonResult Compare(GrokConfig config, CapturedRun a, CapturedRun b, ComparisonOptions? options = null,
        Func<int, string?>? tokenText = null)
    {
        options ??= new ComparisonOptions();
        CheckOptions(config, options);
        if (options.GenerateTokens > 0) throw new ArgumentException("generating needs the model: captured runs are compared with GenerateTokens = 0.");
        foreach (var (side, run) in new[] { ("A", a), ("B", b) })
            if (run.Logits is { } logits && (logits.dim() != 2 || logits.shape[0] != run.TokenIds.Count || logits.shape[1] != config.VocabSize))
                throw new ArgumentException($"run {side}'s logits have shape [{string.Join(", ", logits.shape)}], expected [{run.TokenIds.Count}, {config.VocabSize}].");

        bool sameLength = a.TokenIds.Count == b.TokenIds.Count;
        var aligned = sameLength
            ? Enumerable.Range(0, a.TokenIds.Count).Select(t => new PositionPair(t, t)).ToArray()
            : [new PositionPair(a.TokenIds.Count - 1, b.TokenIds.Count - 1)];
        var layers = Enumerable.Range(0, config.NumLayers).ToArray();
        var missing = new Dictionary<string, string[]>();
        bool Has(string part, IEnumerable<string> hooks)
        {
            // Listing stops after a few: a dump's config may claim far more layers than it holds hooks for.
            var lacking = hooks.Where(h => !a.Cache.Contains(h) || !b.Cache.Contains(h)).Take(MaxListedMissing + 1).ToArray();
            if (lacking.Length > 0) missing[part] = lacking;
            return lacking.Length == 0;
        }

        bool hasLogits = a.Logits is not null && b.Logits is not null;
        if (!hasLogits) missing[NextTokenPart] = [HookPoints.Logits];
        bool residual = Has(ResidualPart, ResidualHooks(config.NumLayers));
        bool routing = Has(RoutingPart, layers.Select(l => HookPoints.Layer(l, HookPoints.TopKIndices)));
        if (routing) Has(NearTiesPart, layers.Select(l => HookPoints.Layer(l, HookPoints.RouterProbs)));
        bool attention = options.Attention && sameLength && Has(AttentionPart, layers.Select(l => HookPoints.Layer(l, HookPoints.Pattern)));

        using var scope = NewDisposeScope();
        var logA = hasLogits ? a.Logits!.to_type(ScalarType.Float64).log_softmax(-1) : null;
        var logB = hasLogits ? b.Logits!.to_type(ScalarType.Float64).log_softmax(-1) : null;
        var last = aligned[^1];
        return new RunComparisonResult(
            [.. a.TokenIds], [.. b.TokenIds],
            [.. a.Interventions ?? []], [.. b.Interventions ?? []],
            aligned,
            hasLogits ? NextToken(tokenText, a.Logits!, b.Logits!, logA!, logB!, last, options.TopTokens) : null,
            hasLogits ? aligned.Select(p => Kl(logA![p.A], logB![p.B])).ToArray() : null,
            hasLogits ? Target(a.Logits!, b.Logits!, logA!, logB!, last, options) : null,
            residual ? Residuals(config.NumLayers, a.Cache, b.Cache, aligned) : null,
            routing ? Routing(config, a.Cache, b.Cache, aligned, options.NearTieThreshold) : null,
            attention ? Attention(config, a.Cache, b.Cache) : null,
            null)
        {
            MissingHooks = missing,
        };
    }

    private static void CheckOptions(GrokConfig config, ComparisonOptions options)
    {
        if (options.TopTokens < 1) throw new ArgumentException("list at least one top token.");
        foreach (int? token in new[] { options.Target, options.OtherTarget })
            if (token is int id && (id < 0 || id >= config.VocabSize))
                throw new ArgumentException($"target token {id} is outside the vocabulary 0…{config.VocabSize - 1}.");
        if (options.OtherTarget is not null && options.Target is null)
            throw new ArgumentException("a second target needs a first one (the logit difference is target − other).");
    }

    private static IEnumerable<string> ResidualHooks(int layers) =>
        new[] { HookPoints.Embed }.Concat(Enumerable.Range(0, layers).Select(l => HookPoints.Layer(l, HookPoints.ResidPost)));

    private static CapturedRun Captured(ComparedRun side, RunResult run) => new(side.TokenIds, run.Cache, run.Logits, Descriptions(side));

    private static RunResult RunSide(IModelEngine model, ComparedRun side, IReadOnlyList<string> capture) =>
        InterventionRunner.Run(model, side.TokenIds, side.Interventions ?? [], new RunOptions { Capture = capture }, side.Source);

    private static string[] Descriptions(ComparedRun side) =>
        (side.Interventions ?? []).Where(i => i.Enabled).Select(i => i.Describe()).ToArray();

    /// <summary>KL(p‖q) in nats from two log-probability rows.</summary>
    private static double Kl(Tensor logP, Tensor logQ)
    {
        using var terms = logP.exp() * (logP - logQ);
        return terms.sum().item<double>();
    }

    private static NextTokenComparison NextToken(Func<int, string?>? tokenText, Tensor logitsA, Tensor logitsB, Tensor logA, Tensor logB,
        PositionPair last, int topTokens)
    {
        var la = logitsA[last.A].to_type(ScalarType.Float64).data<double>().ToArray();
        var lb = logitsB[last.B].to_type(ScalarType.Float64).data<double>().ToArray();
        var pa = logA[last.A].exp().data<double>().ToArray();
        var pb = logB[last.B].exp().data<double>().ToArray();
        TokenShift Shift(int id) => new(id, tokenText?.Invoke(id), pa[id], pb[id], la[id], lb[id]);
        TokenShift[] Top(double[] p) => Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).Take(topTokens).Select(Shift).ToArray();
        double totalVariation = 0.5 * pa.Zip(pb, (x, y) => Math.Abs(x - y)).Sum();
        return new NextTokenComparison(last.A, last.B, Top(pa), Top(pb), Kl(logA[last.A], logB[last.B]), Kl(logB[last.B], logA[last.A]), totalVariation);
    }

    private static TargetComparison? Target(Tensor logitsA, Tensor logitsB, Tensor logA, Tensor logB, PositionPair last, ComparisonOptions options)
    {
        if (options.Target is not int target) return null;
        double Logit(Tensor logits, int position, int id) => logits[position, id].to_type(ScalarType.Float64).item<double>();
        double? Difference(Tensor logits, int position) =>
            options.OtherTarget is int other ? Logit(logits, position, target) - Logit(logits, position, other) : null;
        return new TargetComparison(target, options.OtherTarget,
            Logit(logitsA, last.A, target), Logit(logitsB, last.B, target),
            Math.Exp(logA[last.A, target].item<double>()), Math.Exp(logB[last.B, target].item<double>()),
            Difference(logitsA, last.A), Difference(logitsB, last.B));
    }

    private static ResidualChange Residuals(int layers, ActivationCache a, ActivationCache b, PositionPair[] aligned)
    {
        var stages = new[] { "embed" }.Concat(Enumerable.Range(0, layers).Select(l => $"layer {l}")).ToArray();
        var hooks = ResidualHooks(layers);
        using var indexA = tensor(aligned.Select(p => (long)p.A).ToArray());
        using var indexB = tensor(aligned.Select(p => (long)p.B).ToArray());
        var norms = new List<double[]>();
        var relative = new List<double[]>();
        foreach (var hook in hooks)
        {
            using var scope = NewDisposeScope();
            var ra = a[hook].index_select(0, indexA).to_type(ScalarType.Float64);
            var rb = b[hook].index_select(0, indexB).to_type(ScalarType.Float64);
            var difference = (rb - ra).norm(1).data<double>().ToArray();
            var baseline = ra.norm(1).data<double>().ToArray();
            norms.Add(difference);
            relative.Add(difference.Zip(baseline, (d, n) => n > 0 ? d / n : 0).ToArray()); // a zero residual: 0, keeping JSON finite
        }
        return new ResidualChange(stages, [.. norms], [.. relative]);
    }

    private static RoutingDiff Routing(GrokConfig config, ActivationCache a, ActivationCache b, PositionPair[] aligned, double threshold)
    {
        var tiesA = NearTies.Find(a, config.TopK, threshold).ToArray();
        var tiesB = NearTies.Find(b, config.TopK, threshold).ToArray();
        var firstChanged = new int[config.NumLayers];
        var setChanged = new int[config.NumLayers];
        var changes = new List<RoutingChange>();
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            var hook = HookPoints.Layer(layer, HookPoints.TopKIndices);
            var ia = a[hook].data<long>().ToArray();
            var ib = b[hook].data<long>().ToArray();
            int ka = (int)a[hook].shape[1], kb = (int)b[hook].shape[1];
            foreach (var p in aligned)
            {
                var ea = ia.Skip(p.A * ka).Take(ka).Select(e => (int)e).ToArray();
                var eb = ib.Skip(p.B * kb).Take(kb).Select(e => (int)e).ToArray();
                bool first = ea[0] != eb[0], set = !ea.Order().SequenceEqual(eb.Order());
                if (first) firstChanged[layer]++;
                if (set) setChanged[layer]++;
                if (first || set)
                    changes.Add(new RoutingChange(layer, p.A, p.B, ea, eb, first, set,
                        tiesA.Any(t => t.Layer == layer && t.Position == p.A), tiesB.Any(t => t.Layer == layer && t.Position == p.B)));
            }
        }
        return new RoutingDiff(firstChanged, setChanged, [.. changes], tiesA, tiesB, threshold);
    }

    private static AttentionChange Attention(GrokConfig config, ActivationCache a, ActivationCache b)
    {
        var max = new double[config.NumLayers][];
        var mean = new double[config.NumLayers][];
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            using var scope = NewDisposeScope();
            var hook = HookPoints.Layer(layer, HookPoints.Pattern);
            var difference = (b[hook].to_type(ScalarType.Float64) - a[hook].to_type(ScalarType.Float64)).abs().flatten(1); // [H, T·T]
            max[layer] = difference.amax([1]).data<double>().ToArray();
            // The mean runs over the causal (query ≥ key) entries only: the rest are zero in both runs.
            long length = a[hook].shape[1];
            double causal = length * (length + 1) / 2.0;
            mean[layer] = difference.sum([1]).div(causal).data<double>().ToArray();
        }
        return new AttentionChange(max, mean);
    }

    private static GenerationComparison Generate(IModelEngine model, ComparedRun a, ComparedRun b, ComparisonOptions options)
    {
        var sampling = options.Sampling with { MaxNewTokens = options.GenerateTokens };
        GeneratedToken[] Continue(ComparedRun side) => model.Generate(side.TokenIds, sampling,
            new GenerationRequest { Interventions = side.Interventions ?? [], Source = side.Source }).ToArray();
        var ga = Continue(a);
        var gb = Continue(b);
        int first = Enumerable.Range(0, Math.Max(ga.Length, gb.Length))
            .FirstOrDefault(i => i >= ga.Length || i >= gb.Length || ga[i].Id != gb[i].Id, -1);
        return new GenerationComparison(sampling.Seed, ga, gb, first);
    }
}
