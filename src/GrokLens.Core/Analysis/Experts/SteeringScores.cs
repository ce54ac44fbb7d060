using GrokLens.Interventions;

namespace GrokLens.Analysis.Experts;

/// <summary>An expert's activation rates (share of tokens with it in their top-k) in two prompt sets and their difference A − B.</summary>
public sealed record SteeringScore(int Layer, int Expert, double RateA, double RateB, double Difference);

/// <summary>
/// SteerMoE's contrastive score: every expert's activation rate in prompt set A minus its rate in set B. Experts with a
/// large positive score are the ones A uses more; steering toward A raises their router logits and lowers those of the
/// experts with a large negative score (<see cref="Steer"/>).
/// </summary>
public sealed record SteeringScoresResult(string SubsetA, string SubsetB, long TokensA, long TokensB, IReadOnlyList<SteeringScore> Scores) : IExpertResult
{
    /// <summary>The scores of every (layer, expert), largest difference first.</summary>
    public static SteeringScoresResult From(string nameA, RoutingCounts a, string nameB, RoutingCounts b)
    {
        if (a.Layers != b.Layers || a.Experts != b.Experts) throw new ArgumentException("The two sets were counted on different models.");
        if (a.Tokens == 0 || b.Tokens == 0) throw new ArgumentException("Both prompt sets need at least one token.");
        var scores = Enumerable.Range(0, a.Layers).SelectMany(layer => Enumerable.Range(0, a.Experts).Select(expert =>
            {
                double rateA = a.Rate(layer, expert), rateB = b.Rate(layer, expert);
                return new SteeringScore(layer, expert, rateA, rateB, rateA - rateB);
            }))
            .OrderByDescending(s => s.Difference).ThenBy(s => s.Layer).ThenBy(s => s.Expert)
            .ToList();
        return new SteeringScoresResult(nameA, nameB, a.Tokens, b.Tokens, scores);
    }

    /// <summary>The <paramref name="count"/> experts whose score is largest in size, strongest first.</summary>
    public IReadOnlyList<SteeringScore> Top(int count) =>
        Scores.Where(s => s.Difference != 0).OrderByDescending(s => Math.Abs(s.Difference)).ThenBy(s => s.Layer).ThenBy(s => s.Expert)
            .Take(count).ToList();

    /// <summary>
    /// Router biases that steer toward set A: +<paramref name="strength"/> for each of the <see cref="Top"/> experts that A
    /// uses more, −<paramref name="strength"/> for those it uses less (a negative strength steers toward B).
    /// </summary>
    public IReadOnlyList<RouterBias> Steer(int count, double strength) =>
        Top(count).Select(s => new RouterBias(s.Layer, s.Expert, Math.Sign(s.Difference) * strength)).ToList();

    /// <summary>"steering_scores": one row per layer and expert, largest difference first.</summary>
    public IReadOnlyList<ResultTable> Tables() =>
    [
        new("steering_scores", ["layer", "expert", "rate_a", "rate_b", "difference", "subset_a", "subset_b"],
            Scores.Select(s => new object?[] { s.Layer, s.Expert, s.RateA, s.RateB, s.Difference, SubsetA, SubsetB }).ToList()),
    ];
}
