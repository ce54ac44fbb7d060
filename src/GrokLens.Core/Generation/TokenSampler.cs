namespace GrokLens.Generation;

/// <summary>
/// Draws a token from a logits row with temperature, top-k and top-p, from its own seeded random stream, in double
/// precision on the CPU so results do not depend on the device.
/// </summary>
public sealed class TokenSampler(SamplingOptions options)
{
    private readonly SamplingOptions options = options.Validated();
    private readonly Random random = new(options.Seed);

    /// <summary>Returns the chosen id and its probability under the distribution it was drawn from.</summary>
    public (int Id, double Probability) Next(ReadOnlySpan<float> logits)
    {
        if (options.Temperature == 0 || options.TopK == 1) return (ArgMax(logits), 1.0);

        // Candidates sorted by logit, most likely first; top-k cuts the list before the softmax.
        var order = Enumerable.Range(0, logits.Length).ToArray();
        var keys = logits.ToArray();
        Array.Sort(keys, order, Comparer<float>.Create((a, b) => b.CompareTo(a)));
        int count = options.TopK > 0 ? Math.Min(options.TopK, order.Length) : order.Length;

        var probabilities = new double[count];
        double max = keys[0], sum = 0;
        for (int i = 0; i < count; i++) sum += probabilities[i] = Math.Exp((keys[i] - max) / options.Temperature);
        for (int i = 0; i < count; i++) probabilities[i] /= sum;

        if (options.TopP < 1)
        {
            double cumulative = 0;
            int kept = 0;
            while (kept < count && cumulative < options.TopP) cumulative += probabilities[kept++];
            count = Math.Max(1, kept);
            for (int i = 0; i < count; i++) probabilities[i] /= cumulative;
        }

        double draw = random.NextDouble(), running = 0;
        for (int i = 0; i < count; i++)
        {
            running += probabilities[i];
            if (draw < running) return (order[i], probabilities[i]);
        }
        return (order[count - 1], probabilities[count - 1]);
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
