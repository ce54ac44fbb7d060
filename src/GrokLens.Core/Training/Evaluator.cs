using GrokLens.Analysis;
using GrokLens.Model;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Training;

/// <summary>
/// Validation loss of a model on a token stream: without gradients, on consecutive, non-overlapping windows taken from
/// the start of the stream. Routing statistics and head scores of a trained model come from
/// <see cref="RoutingAnalysis.ForWindows"/> and <see cref="HeadScoring"/>.
/// </summary>
public static class Evaluator
{
    /// <summary>
    /// Mean next-token cross-entropy in nats/token over non-overlapping windows of T+1 tokens from the start of
    /// <paramref name="ids"/>, at most <paramref name="maxTokens"/> predicted tokens (a shorter last window is used too).
    /// </summary>
    public static double ValidationLoss(GrokModel model, IReadOnlyList<int> ids, int sequenceLength, int batchSize = 8, int maxTokens = int.MaxValue)
    {
        var (nats, predicted) = TotalLoss(model, ids, sequenceLength, batchSize, maxTokens);
        return nats / predicted;
    }

    /// <summary>
    /// Summed next-token cross-entropy (nats) and the number of predicted tokens, windows as in
    /// <see cref="ValidationLoss"/>: every token but the first is predicted, from the tokens before it in its window.
    /// Divided by the characters of the text the tokens encode, this gives nats per character, which compares models
    /// with different tokenizers.
    /// </summary>
    public static (double Nats, long Predicted) TotalLoss(GrokModel model, IReadOnlyList<int> ids, int sequenceLength, int batchSize = 8, int maxTokens = int.MaxValue)
    {
        var windows = TokenWindows.NonOverlapping(ids, sequenceLength, maxTokens);
        if (windows.Count == 0) throw new ArgumentException("At least two tokens are needed for a validation loss.");
        model.eval();
        using var _ = no_grad();
        double total = 0;
        long count = 0;
        foreach (var group in TokenWindows.Batches(windows, batchSize))
        {
            using var scope = NewDisposeScope();
            var batch = tensor(group.SelectMany(w => w).ToArray(), [group.Count, group[0].Length]);
            var logits = model.Forward(batch.narrow(1, 0, batch.shape[1] - 1));
            var targets = batch.narrow(1, 1, batch.shape[1] - 1);
            total += cross_entropy(logits.reshape(-1, logits.shape[2]).to_type(ScalarType.Float32), targets.reshape(-1), reduction: nn.Reduction.Sum)
                .to_type(ScalarType.Float64).item<double>();
            count += targets.numel();
        }
        return (total, count);
    }
}
