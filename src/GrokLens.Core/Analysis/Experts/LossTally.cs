using static TorchSharp.torch;

namespace GrokLens.Analysis.Experts;

/// <summary>Next-token loss summed over positions: nats of −log p(token t+1 | ≤ t) and the number of such positions.</summary>
public readonly record struct LossTally(double Nats, long Tokens)
{
    /// <summary>Mean nats per predicted token (NaN when nothing was predicted).</summary>
    public double Mean => Tokens == 0 ? double.NaN : Nats / Tokens;

    public static LossTally operator +(LossTally a, LossTally b) => new(a.Nats + b.Nats, a.Tokens + b.Tokens);

    /// <summary>The loss of one run's logits [T, V] on its own next tokens (T − 1 predictions; none for one token).</summary>
    public static LossTally Of(Tensor logits, IReadOnlyList<int> tokenIds)
    {
        int predicted = tokenIds.Count - 1;
        if (predicted <= 0) return default;
        using var scope = NewDisposeScope();
        var logProbabilities = logits.narrow(0, 0, predicted).to_type(ScalarType.Float64).log_softmax(-1);
        var next = tensor(tokenIds.Skip(1).Select(id => (long)id).ToArray()).unsqueeze(1);
        return new LossTally(-logProbabilities.gather(1, next).sum().item<double>(), predicted);
    }
}
