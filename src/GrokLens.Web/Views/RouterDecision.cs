namespace GrokLens.Web.Views;

/// <summary>
/// The router's choice for one token in one layer, read from its probabilities: experts by probability, the margin
/// between the k-th choice and the first expert left out, and whether that margin is a near-tie.
/// </summary>
public sealed record RouterDecision(int[] ExpertsByProbability, float[] Probabilities, double Margin, double EntropyBits, bool NearTie)
{
    public static RouterDecision From(float[] probabilities, int topK, double nearTieThreshold)
    {
        var order = Enumerable.Range(0, probabilities.Length).OrderByDescending(e => probabilities[e]).ThenBy(e => e).ToArray();
        double margin = topK < order.Length ? probabilities[order[topK - 1]] - probabilities[order[topK]] : double.PositiveInfinity;
        double entropy = -probabilities.Where(p => p > 0).Sum(p => p * Math.Log2(p));
        return new RouterDecision(order, probabilities, margin, entropy, margin < nearTieThreshold);
    }
}
