using static TorchSharp.torch;

namespace GrokLens.Analysis;

/// <summary>A score per attention head, [layer][head].</summary>
public sealed record HeadScores(string Name, double[][] Scores)
{
    /// <summary>The head with the highest score.</summary>
    public (int Layer, int Head, double Score) Best
    {
        get
        {
            (int, int, double) best = (0, 0, double.NegativeInfinity);
            for (int l = 0; l < Scores.Length; l++)
                for (int h = 0; h < Scores[l].Length; h++)
                    if (Scores[l][h] > best.Item3) best = (l, h, Scores[l][h]);
            return best;
        }
    }

    /// <summary>
    /// Previous-token score per head of one layer's pattern [B, H, T, T] (query, key): the mean over batch and
    /// query positions t ≥ 1 of the attention from t to t − 1.
    /// </summary>
    public static double[] PreviousToken(Tensor pattern)
    {
        CheckPattern(pattern);
        long length = pattern.shape[2];
        if (length < 2) throw new ArgumentException("Need at least two positions.");
        using var _ = no_grad();
        using var diagonal = pattern.diagonal(-1, -2, -1); // [B, H, T−1]: pattern[.., t, t−1]
        using var mean = diagonal.mean([0, 2]).cpu().to_type(ScalarType.Float64);
        return mean.data<double>().ToArray();
    }

    /// <summary>
    /// Induction score per head for a pattern [B, H, L, L] of the sequence [BOS?] + r₁…rₙ + r₁…rₙ, where the repeated
    /// block starts at <paramref name="firstCopyStart"/> (1 with a BOS, else 0): the mean attention from each token of
    /// the second copy (query q) to the token after its earlier occurrence (key q − n + 1) — TransformerLens's
    /// diagonal at offset 1 − n, restricted to the second copy.
    /// </summary>
    public static double[] Induction(Tensor pattern, int repeatLength, int firstCopyStart)
    {
        CheckPattern(pattern);
        long length = pattern.shape[2];
        if (firstCopyStart + 2L * repeatLength != length)
            throw new ArgumentException($"Pattern covers {length} positions; expected {firstCopyStart} + 2 × {repeatLength}.");
        using var _ = no_grad();
        using var diagonal = pattern.diagonal(1 - repeatLength, -2, -1); // pattern[.., q, q − n + 1] for q ≥ n − 1
        // Entry i of the diagonal has query q = n − 1 + i; the second copy is q ≥ firstCopyStart + n.
        long skip = firstCopyStart + 1;
        using var second = diagonal.narrow(-1, skip, diagonal.shape[^1] - skip);
        using var mean = second.mean([0, 2]).cpu().to_type(ScalarType.Float64);
        return mean.data<double>().ToArray();
    }

    private static void CheckPattern(Tensor pattern)
    {
        if (pattern.dim() != 4 || pattern.shape[2] != pattern.shape[3])
            throw new ArgumentException("An attention pattern must be [batch, heads, query, key] with query = key length.");
    }
}
