using GrokLens.Analysis;
using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Training;

/// <summary>
/// Measurements of a trained model that need no interventions: validation loss, routing statistics and
/// previous-token / induction head scores. All run without gradients on consecutive, non-overlapping windows taken
/// from the start of the given stream.
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
        var windows = Windows(ids, sequenceLength, maxTokens);
        if (windows.Count == 0) throw new ArgumentException("At least two tokens are needed for a validation loss.");
        model.eval();
        using var _ = no_grad();
        double total = 0;
        long count = 0;
        foreach (var group in Group(windows, batchSize))
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

    /// <summary>Expert shares and consecutive-token routing rates per layer on windows of <paramref name="ids"/>.</summary>
    public static IReadOnlyList<RoutingStatistics> Routing(GrokModel model, IReadOnlyList<int> ids, int sequenceLength, int batchSize = 8, int maxTokens = 16384)
    {
        var windows = Windows(ids, sequenceLength - 1, maxTokens);
        if (windows.Count == 0) throw new ArgumentException("No tokens to route.");
        var config = model.Config;
        var perLayer = Enumerable.Range(0, config.NumLayers).Select(_ => new List<RoutingStatistics>()).ToArray();
        model.eval();
        using var _ = no_grad();
        foreach (var group in Group(windows, batchSize))
        {
            using var scope = NewDisposeScope();
            var batch = tensor(group.SelectMany(w => w).ToArray(), [group.Count, group[0].Length]);
            using var hooks = new ForwardHooks(Enumerable.Range(0, config.NumLayers).Select(l => HookPoints.Layer(l, HookPoints.TopKIndices)));
            model.Forward(batch, hooks);
            var captured = hooks.TakeCaptured();
            var isToken = batch.ne(config.PadTokenId);
            for (int layer = 0; layer < config.NumLayers; layer++)
            {
                perLayer[layer].Add(RoutingStatistics.FromTopK(layer, captured[layer].Value, config.NumExperts, isToken));
                captured[layer].Value.Dispose();
            }
        }
        return perLayer.Select(RoutingStatistics.Merge).ToList();
    }

    /// <summary>Previous-token score of every head on windows of <paramref name="ids"/> (see <see cref="HeadScores.PreviousToken"/>).</summary>
    public static HeadScores PreviousTokenScores(GrokModel model, IReadOnlyList<int> ids, int sequenceLength, int batchSize = 8, int maxTokens = 4096)
    {
        var windows = Windows(ids, sequenceLength - 1, maxTokens).Where(w => w.Length == sequenceLength).ToList();
        if (windows.Count == 0) throw new ArgumentException($"Need at least {sequenceLength} tokens.");
        return PatternScores(model, "previous-token", windows, batchSize, HeadScores.PreviousToken);
    }

    /// <summary>
    /// Induction score of every head (see <see cref="HeadScores.Induction"/>) on <paramref name="sequences"/> random
    /// sequences of <paramref name="repeatLength"/> tokens drawn uniformly from <paramref name="candidateIds"/>
    /// (default: every id except PAD/BOS/EOS/UNK = 0…3), each repeated twice after <paramref name="bosId"/> (none if null).
    /// </summary>
    public static HeadScores InductionScores(GrokModel model, int repeatLength = 50, int sequences = 16, long seed = 0,
        int? bosId = 1, IReadOnlyList<int>? candidateIds = null)
    {
        int vocab = model.Config.VocabSize;
        var candidates = candidateIds ?? Enumerable.Range(4, Math.Max(0, vocab - 4)).ToArray();
        if (candidates.Count == 0) throw new ArgumentException("No candidate tokens.");
        int start = bosId is null ? 0 : 1;
        if (start + 2 * repeatLength > model.Config.MaxPositions)
            throw new ArgumentException($"{start + 2 * repeatLength} positions exceed the model's context.");
        var random = new Random((int)seed);
        var windows = new List<long[]>();
        for (int s = 0; s < sequences; s++)
        {
            var row = new long[start + 2 * repeatLength];
            if (bosId is int bos) row[0] = bos;
            for (int i = 0; i < repeatLength; i++)
                row[start + i] = row[start + repeatLength + i] = candidates[random.Next(candidates.Count)];
            windows.Add(row);
        }
        return PatternScores(model, "induction", windows, 8, p => HeadScores.Induction(p, repeatLength, start));
    }

    private static HeadScores PatternScores(GrokModel model, string name, List<long[]> windows, int batchSize, Func<Tensor, double[]> score)
    {
        var config = model.Config;
        var sums = Enumerable.Range(0, config.NumLayers).Select(_ => new double[config.NumHeads]).ToArray();
        model.eval();
        using var _ = no_grad();
        int rows = 0;
        foreach (var group in Group(windows, batchSize))
        {
            using var scope = NewDisposeScope();
            var batch = tensor(group.SelectMany(w => w).ToArray(), [group.Count, group[0].Length]);
            using var hooks = new ForwardHooks(Enumerable.Range(0, config.NumLayers).Select(l => HookPoints.Layer(l, HookPoints.Pattern)));
            model.Forward(batch, hooks);
            var captured = hooks.TakeCaptured();
            for (int layer = 0; layer < config.NumLayers; layer++)
            {
                var scores = score(captured[layer].Value);
                for (int h = 0; h < scores.Length; h++) sums[layer][h] += scores[h] * group.Count;
                captured[layer].Value.Dispose();
            }
            rows += group.Count;
        }
        return new HeadScores(name, sums.Select(layer => layer.Select(s => s / rows).ToArray()).ToArray());
    }

    /// <summary>Non-overlapping windows of up to T+1 tokens (consecutive windows share their boundary token).</summary>
    private static List<long[]> Windows(IReadOnlyList<int> ids, int sequenceLength, int maxTokens)
    {
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
    private static IEnumerable<List<long[]>> Group(List<long[]> windows, int batchSize) =>
        windows.GroupBy(w => w.Length).SelectMany(g => g.Chunk(batchSize).Select(c => c.ToList()));
}
