namespace GrokLens.Training;

/// <summary>
/// A smoothed bigram model fitted on the training ids, as a baseline for the validation loss. Smoothing is
/// Witten–Bell interpolation with an add-one unigram, so nothing is tuned:
/// P(b | a) = (c(a,b) + u(a)·P₁(b)) / (c(a) + u(a)), with c(a) the count of a followed by anything, u(a) the number
/// of distinct tokens seen after a, and P₁(b) = (c(b) + 1) / (N + V) (N training tokens, V vocabulary size).
/// A context never seen (c(a) = 0) falls back to P₁.
/// </summary>
public sealed class BigramBaseline
{
    private readonly Dictionary<(int, int), int> pairCounts = new();
    private readonly Dictionary<int, int> contextCounts = new();
    private readonly Dictionary<int, int> distinctFollowers = new();
    private readonly int[] unigramCounts;
    private readonly long tokenCount;

    public BigramBaseline(IReadOnlyList<int> trainIds, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(trainIds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        VocabSize = vocabSize;
        unigramCounts = new int[vocabSize];
        foreach (int id in trainIds) unigramCounts[id]++;
        tokenCount = trainIds.Count;
        for (int i = 0; i + 1 < trainIds.Count; i++)
        {
            var pair = (trainIds[i], trainIds[i + 1]);
            int seen = pairCounts.GetValueOrDefault(pair);
            if (seen == 0) distinctFollowers[pair.Item1] = distinctFollowers.GetValueOrDefault(pair.Item1) + 1;
            pairCounts[pair] = seen + 1;
            contextCounts[pair.Item1] = contextCounts.GetValueOrDefault(pair.Item1) + 1;
        }
    }

    public int VocabSize { get; }

    /// <summary>P₁(b) = (c(b) + 1) / (N + V).</summary>
    public double UnigramProbability(int token) => (unigramCounts[token] + 1.0) / (tokenCount + VocabSize);

    /// <summary>P(next | previous).</summary>
    public double Probability(int previous, int next)
    {
        double unigram = UnigramProbability(next);
        int context = contextCounts.GetValueOrDefault(previous);
        if (context == 0) return unigram;
        int distinct = distinctFollowers[previous];
        return (pairCounts.GetValueOrDefault((previous, next)) + distinct * unigram) / (context + distinct);
    }

    /// <summary>Mean −ln P(xₜ₊₁ | xₜ) over consecutive pairs of <paramref name="ids"/>, in nats/token.</summary>
    public double CrossEntropy(IReadOnlyList<int> ids)
    {
        if (ids.Count < 2) throw new ArgumentException("At least two tokens are needed.");
        double total = 0;
        for (int i = 0; i + 1 < ids.Count; i++) total -= Math.Log(Probability(ids[i], ids[i + 1]));
        return total / (ids.Count - 1);
    }
}
