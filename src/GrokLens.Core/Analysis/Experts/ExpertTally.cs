namespace GrokLens.Analysis.Experts;

/// <summary>
/// Everything one pass over a set of prompts counts (see <see cref="ExpertPass"/>): the routing counts, the loss, and
/// what <see cref="ExpertPassOptions"/> asked for — token-by-expert counts by input and by predicted token, expert output
/// norms, top-expert cosines. All parts are sums, so tallies of subsets add up to the corpus's.
/// </summary>
public sealed class ExpertTally
{
    public ExpertTally(int layers, int experts, ExpertPassOptions options, Func<TopExpertCosines>? newCosines = null)
    {
        Routing = new RoutingCounts(layers, experts);
        if (options.Vocabulary)
        {
            ByInput = new TokenExpertCounts(layers, experts);
            ByPredicted = new TokenExpertCounts(layers, experts);
        }
        if (options.OutputNorms) Norms = new ExpertOutputNorms(layers, experts);
        if (options.TopExpertCosines)
            Cosines = newCosines?.Invoke() ?? throw new ArgumentException("Top-expert cosines need the model's post-MoE norm scales.");
    }

    public RoutingCounts Routing { get; }

    /// <summary>Token-by-expert counts keyed by the input token of each position.</summary>
    public TokenExpertCounts? ByInput { get; }

    /// <summary>Token-by-expert counts keyed by the token the model predicts at each position (argmax of its logits).</summary>
    public TokenExpertCounts? ByPredicted { get; }

    public ExpertOutputNorms? Norms { get; }

    public TopExpertCosines? Cosines { get; }

    /// <summary>Next-token loss of the runs (within each prompt).</summary>
    public LossTally Loss { get; internal set; }

    public int Prompts { get; internal set; }

    public long Tokens => Routing.Tokens;

    internal IEnumerable<IForwardObserver> Observers => new IForwardObserver?[] { Norms, Cosines }.OfType<IForwardObserver>();

    public void Add(ExpertTally other)
    {
        Routing.Add(other.Routing);
        ByInput?.Add(other.ByInput ?? throw Missing("token counts"));
        ByPredicted?.Add(other.ByPredicted ?? throw Missing("token counts"));
        Norms?.Add(other.Norms ?? throw Missing("output norms"));
        Cosines?.Add(other.Cosines ?? throw Missing("top-expert cosines"));
        Loss += other.Loss;
        Prompts += other.Prompts;
    }

    private static ArgumentException Missing(string what) => new($"The tally to add has no {what}.");
}

/// <summary>The tallies of each subset of a corpus and of the whole corpus.</summary>
public sealed class ExpertTallies(IReadOnlyList<(string Subset, ExpertTally Tally)> subsets, ExpertTally total)
{
    public IReadOnlyList<(string Subset, ExpertTally Tally)> Subsets { get; } = subsets;

    /// <summary>All subsets together.</summary>
    public ExpertTally Total { get; } = total;

    public ExpertTally For(string subset) =>
        Subsets.FirstOrDefault(s => s.Subset == subset).Tally
        ?? throw new ArgumentException($"No subset '{subset}'; the corpus has {string.Join(", ", Subsets.Select(s => s.Subset))}.");
}
