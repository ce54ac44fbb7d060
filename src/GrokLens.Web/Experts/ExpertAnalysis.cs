using GrokLens.Analysis.Experts;
using GrokLens.Tokenization;

namespace GrokLens.Web.Experts;

/// <summary>An expert in one layer: what a click anywhere on the page selects.</summary>
public readonly record struct ExpertId(int Layer, int Expert)
{
    public override string ToString() => $"expert {Expert} of layer {Layer}";
}

/// <summary>
/// One analysis on the Experts page: the corpus and its tallies (from a run or an opened dump), plus what was measured
/// on demand (bans of the causal audit, top-expert-only losses, a prompt's lens, a steered generation). The results
/// computed from tallies are pure and cached here; the page renders them.
/// </summary>
public sealed class ExpertAnalysis
{
    private readonly Dictionary<string, CoActivationResult> coActivation = [];
    private readonly Dictionary<string, VocabularySpecialisationResult> vocabulary = [];
    private ExpertLoadResult? load;

    public ExpertAnalysis(string source, string modelName, int topK, ExpertCorpus corpus, ExpertTallies tallies, ITokenizer? tokenizer)
    {
        Source = source;
        ModelName = modelName;
        TopK = topK;
        Corpus = corpus;
        Tallies = tallies;
        Tokenizer = tokenizer;
    }

    /// <summary>What made it: "run on MODEL" or the dump's file name.</summary>
    public string Source { get; }
    public string ModelName { get; }
    public int Layers => Tallies.Total.Routing.Layers;
    public int Experts => Tallies.Total.Routing.Experts;
    public int TopK { get; }
    public ExpertCorpus Corpus { get; }
    public ExpertTallies Tallies { get; }
    public ITokenizer? Tokenizer { get; }

    /// <summary>The bytes of the dump it was opened from (served again as its download), else null.</summary>
    public byte[]? DumpBytes { get; init; }

    /// <summary>Subset names, then "all" when there are several.</summary>
    public IReadOnlyList<string> SubsetNames =>
        Tallies.Subsets.Select(s => s.Subset).Concat(Tallies.Subsets.Count > 1 ? [AllSubsets] : []).ToList();

    public const string AllSubsets = "all";

    public ExpertTally Tally(string subset) => subset == AllSubsets ? Tallies.Total : Tallies.For(subset);

    /// <summary>Banned loss per expert of the causal audit, measured so far over the whole corpus.</summary>
    public Dictionary<(int Layer, int Expert), LossTally> Banned { get; } = [];

    /// <summary>Loss with only the top expert kept, per measured layer, over the whole corpus.</summary>
    public Dictionary<int, LossTally> TopExpertLosses { get; } = [];

    public ExpertLensResult? Lens { get; set; }
    public SteeringComparison? Steering { get; set; }

    public ExpertLoadResult Load => load ??= ExpertLoadResult.From(Tallies, TopK);

    public CoActivationResult CoActivation(string subset) =>
        coActivation.TryGetValue(subset, out var result) ? result : coActivation[subset] = CoActivationResult.From(subset, Tally(subset).Routing, TopK);

    /// <summary>Null when the tallies hold no token counts.</summary>
    public VocabularySpecialisationResult? Vocabulary(string subset)
    {
        if (Tally(subset).ByInput is null) return null;
        if (!vocabulary.TryGetValue(subset, out var result))
            vocabulary[subset] = result = VocabularySpecialisationResult.From(subset, Tally(subset), Tokenizer,
                new VocabularyOptions { MinOccurrences = 2, TopTokens = 10, ListedTokens = 50 });
        return result;
    }

    /// <summary>The audit of the experts banned so far (observational numbers beside the loss change), or null before any ban.</summary>
    public CausalAuditResult? Audit =>
        Banned.Count == 0 || Tallies.Total.Norms is null ? null : CausalAudit.From(CorpusName, Tallies.Total, Banned);

    /// <summary>Observational numbers of every expert (use rate, gate mass, output norm), measured or not by a ban.</summary>
    public ExpertAuditRow Observed(ExpertId id)
    {
        var routing = Tallies.Total.Routing;
        double? norm = Tallies.Total.Norms?.MeanNorm(id.Layer, id.Expert);
        double? banned = Banned.TryGetValue((id.Layer, id.Expert), out var loss) ? loss.Mean : null;
        return new ExpertAuditRow(id.Layer, id.Expert, routing.Rate(id.Layer, id.Expert), routing.GateSum[id.Layer][id.Expert] / routing.Tokens,
            norm, banned ?? double.NaN, banned is { } b ? b - Tallies.Total.Loss.Mean : double.NaN);
    }

    /// <summary>Top-expert cosines per layer and the losses measured so far, or null without cosines.</summary>
    public TopExpertResult? TopExpert =>
        Tallies.Total.Cosines is null ? null : TopExpertOnly.From(CorpusName, Tallies.Total, TopExpertLosses, null, renormalised: false);

    public SteeringScoresResult Scores(string a, string b) => SteeringScoresResult.From(a, Tally(a).Routing, b, Tally(b).Routing);

    public string CorpusName => Corpus.Subsets.Count == 1 ? Corpus.Subsets[0].Name : AllSubsets;

    /// <summary>Every table of the analysis as it stands, for the tables view and CSV export.</summary>
    public IReadOnlyList<ResultTable> Tables()
    {
        var tables = new List<ResultTable>(Load.Tables());
        foreach (var subset in SubsetNames)
        {
            tables.AddRange(Suffixed(CoActivation(subset).Tables(), subset));
            if (Vocabulary(subset) is { } v) tables.AddRange(Suffixed(v.Tables(), subset));
        }
        tables.Add(ObservationTable());
        if (Audit is { } audit) tables.AddRange(audit.Tables());
        if (TopExpert is { } top) tables.AddRange(top.Tables());
        if (Corpus.Subsets.Count > 1) tables.AddRange(Scores(Corpus.Subsets[0].Name, Corpus.Subsets[1].Name).Tables());
        if (Lens is { } lens) tables.AddRange(lens.Tables());
        if (Steering is { } steering) tables.AddRange(steering.Tables());
        return tables;
    }

    /// <summary>use rate, gate mass and output norm of every expert (the audit's observational columns, for all experts).</summary>
    private ResultTable ObservationTable() =>
        new("expert_observations", ["layer", "expert", "use_rate", "gate_mass", "output_norm", "banned_loss", "loss_change"],
            Enumerable.Range(0, Layers).SelectMany(l => Enumerable.Range(0, Experts).Select(e =>
            {
                var row = Observed(new ExpertId(l, e));
                return new object?[] { l, e, row.UseRate, row.GateMass, row.OutputNorm, row.BannedLoss, row.LossChange };
            })).ToList());

    private static IEnumerable<ResultTable> Suffixed(IEnumerable<ResultTable> tables, string subset) =>
        tables.Select(t => t with { Name = $"{t.Name} ({subset})" });
}
