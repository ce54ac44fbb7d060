namespace GrokLens.Analysis;

/// <summary>Cuts a token stream into windows for batched forward passes over a dataset.</summary>
public static class TokenWindows
{
    /// <summary>
    /// Non-overlapping windows of up to T+1 tokens from the start of <paramref name="ids"/> (consecutive windows share
    /// their boundary token, so every token but the first is predicted once), until <paramref name="maxTokens"/>
    /// tokens are predicted; a shorter last window is kept.
    /// </summary>
    public static List<long[]> NonOverlapping(IReadOnlyList<int> ids, int sequenceLength, int maxTokens = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequenceLength);
        var windows = new List<long[]>();
        int predicted = 0;
        for (int start = 0; start + 1 < ids.Count && predicted < maxTokens; start += sequenceLength)
        {
            int length = Math.Min(sequenceLength + 1, ids.Count - start);
            if (length < 2) break;
            windows.Add(Enumerable.Range(start, length).Select(i => (long)ids[i]).ToArray());
            predicted += length - 1;
        }
        return windows;
    }

    /// <summary>Batches of windows with equal length (a shorter last window gets its own batch).</summary>
    public static IEnumerable<List<long[]>> Batches(IEnumerable<long[]> windows, int batchSize) =>
        windows.GroupBy(w => w.Length).SelectMany(g => g.Chunk(batchSize).Select(c => c.ToList()));
}
