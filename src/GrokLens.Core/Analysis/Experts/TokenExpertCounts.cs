namespace GrokLens.Analysis.Experts;

/// <summary>How one token id was routed in one layer: its occurrences and, per expert, top-k assignments and top-1 choices.</summary>
public sealed record TokenRouting(int TokenId, long Occurrences, long[] TopK, long[] Top1);

/// <summary>
/// A reduction for vocabulary specialisation: per layer, for every token id seen, how often each expert had it in its
/// top-k and as its first choice. The token is the input token at a position, or the token the model predicts there
/// (its argmax): the caller says which ids go with the positions. Sparse (only ids seen), summed with <see cref="Add"/>.
/// </summary>
public sealed class TokenExpertCounts
{
    private readonly Dictionary<int, long[]>[] perLayer; // id → [top-k counts (E), top-1 counts (E)]
    private readonly Dictionary<int, long> occurrences = new();

    public TokenExpertCounts(int layers, int experts)
    {
        Layers = layers;
        Experts = experts;
        perLayer = Enumerable.Range(0, layers).Select(_ => new Dictionary<int, long[]>()).ToArray();
    }

    public int Layers { get; }
    public int Experts { get; }

    public int DistinctTokens => occurrences.Count;

    /// <summary>
    /// Adds one run: <paramref name="tokenIds"/>[t] is the token of position t, <paramref name="layerIndices"/>[l] layer l's
    /// top-k choices as a flat [T·k] array (highest probability first).
    /// </summary>
    public void Observe(IReadOnlyList<int> tokenIds, IReadOnlyList<(long[] Indices, int K)> layerIndices)
    {
        if (layerIndices.Count != Layers) throw new ArgumentException($"Expected the choices of {Layers} layers, got {layerIndices.Count}.");
        foreach (int id in tokenIds) occurrences[id] = occurrences.GetValueOrDefault(id) + 1;
        for (int layer = 0; layer < Layers; layer++)
        {
            var (indices, k) = layerIndices[layer];
            var counts = perLayer[layer];
            for (int t = 0; t < tokenIds.Count; t++)
            {
                if (!counts.TryGetValue(tokenIds[t], out var row)) counts[tokenIds[t]] = row = new long[2 * Experts];
                row[Experts + indices[t * k]]++;
                for (int s = 0; s < k; s++) row[indices[t * k + s]]++;
            }
        }
    }

    public void Add(TokenExpertCounts other)
    {
        if (other.Layers != Layers || other.Experts != Experts)
            throw new ArgumentException($"Cannot add token counts of {other.Layers} layers × {other.Experts} experts to {Layers} × {Experts}.");
        foreach (var (id, count) in other.occurrences) occurrences[id] = occurrences.GetValueOrDefault(id) + count;
        for (int layer = 0; layer < Layers; layer++)
            foreach (var (id, row) in other.perLayer[layer])
            {
                if (!perLayer[layer].TryGetValue(id, out var mine)) perLayer[layer][id] = mine = new long[2 * Experts];
                for (int i = 0; i < mine.Length; i++) mine[i] += row[i];
            }
    }

    /// <summary>Sets a token's occurrences or its counts in a layer (reading a stored tally).</summary>
    internal void RestoreOccurrences(int tokenId, long count) => occurrences[tokenId] = count;

    internal void Restore(int layer, int tokenId, long[] topK, long[] top1) => perLayer[layer][tokenId] = [.. topK, .. top1];

    /// <summary>Every token id seen, by layer, in ascending id order.</summary>
    public IEnumerable<TokenRouting> Tokens(int layer) =>
        perLayer[layer].OrderBy(p => p.Key).Select(p =>
            new TokenRouting(p.Key, occurrences[p.Key], p.Value[..Experts], p.Value[Experts..]));
}
