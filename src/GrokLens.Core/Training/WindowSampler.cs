namespace GrokLens.Training;

/// <summary>
/// Draws random windows of T+1 tokens from a token stream with a SplitMix64 generator whose whole state is one
/// 64-bit number, so a checkpoint can store it and a resumed run draws the same windows.
/// </summary>
public sealed class WindowSampler
{
    private readonly IReadOnlyList<int> tokens;
    private readonly int windowLength;

    public WindowSampler(IReadOnlyList<int> tokens, int sequenceLength, ulong state)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        windowLength = sequenceLength + 1;
        if (tokens.Count < windowLength)
            throw new ArgumentException($"The token stream has {tokens.Count} tokens; a window needs {windowLength}.");
        this.tokens = tokens;
        State = state;
    }

    /// <summary>The generator state (store it to resume).</summary>
    public ulong State { get; private set; }

    /// <summary>B windows of T+1 tokens, row-major [B, T+1].</summary>
    public long[] NextBatch(int batchSize)
    {
        var batch = new long[batchSize * windowLength];
        long starts = tokens.Count - windowLength + 1;
        for (int b = 0; b < batchSize; b++)
        {
            int start = (int)(NextUInt64() % (ulong)starts);
            for (int i = 0; i < windowLength; i++) batch[b * windowLength + i] = tokens[start + i];
        }
        return batch;
    }

    private ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
