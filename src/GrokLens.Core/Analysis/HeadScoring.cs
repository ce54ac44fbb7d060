using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Analysis;

/// <summary>
/// Previous-token and induction scores per head (TransformerLens's definitions, see <see cref="HeadScores"/>), on one
/// prompt or batched over windows of a dataset. The only implementation: the trainer's evaluation uses it too.
/// </summary>
public static class HeadScoring
{
    /// <summary>Mean attention from each position t ≥ 1 to t − 1 in one prompt, per [layer][head].</summary>
    public static HeadScores PreviousToken(IModelEngine model, IReadOnlyList<int> tokenIds)
    {
        if (tokenIds.Count < 2) throw new ArgumentException("a previous-token score needs at least two tokens.");
        int layers = model.Config.NumLayers;
        using var run = model.Run(tokenIds, new RunOptions
        {
            Capture = Enumerable.Range(0, layers).Select(l => HookPoints.Layer(l, HookPoints.Pattern)).ToList(),
        });
        return new HeadScores("previous-token", Enumerable.Range(0, layers).Select(l =>
        {
            using var pattern = run.Cache[HookPoints.Layer(l, HookPoints.Pattern)].unsqueeze(0);
            return HeadScores.PreviousToken(pattern);
        }).ToArray());
    }

    /// <summary>
    /// Previous-token score of every head on the full windows of <paramref name="sequenceLength"/> tokens cut from the
    /// start of <paramref name="ids"/> (at most about <paramref name="maxTokens"/> tokens), averaged over windows.
    /// </summary>
    public static HeadScores PreviousToken(GrokModel model, IReadOnlyList<int> ids, int sequenceLength, int batchSize = 8, int maxTokens = 4096)
    {
        var windows = TokenWindows.NonOverlapping(ids, sequenceLength - 1, maxTokens).Where(w => w.Length == sequenceLength).ToList();
        if (windows.Count == 0) throw new ArgumentException($"Need at least {sequenceLength} tokens.");
        return PatternScores(model, "previous-token", windows, batchSize, HeadScores.PreviousToken);
    }

    /// <summary>
    /// Induction score on <paramref name="sequences"/> random sequences of <paramref name="repeatLength"/> tokens, each
    /// repeated twice after the tokenizer's BOS (none without a tokenizer): mean attention from the second copy to the
    /// token after the earlier occurrence.
    /// </summary>
    public static HeadScores Induction(LoadedModel model, int repeatLength = 25, int sequences = 8, long seed = 0) =>
        Induction(model.Model, repeatLength, sequences, seed, model.Tokenizer?.BosId);

    /// <summary>
    /// Induction score of every head (see <see cref="HeadScores.Induction"/>) on <paramref name="sequences"/> random
    /// sequences of <paramref name="repeatLength"/> tokens drawn uniformly from <paramref name="candidateIds"/>
    /// (default: every id except PAD/BOS/EOS/UNK = 0…3), each repeated twice after <paramref name="bosId"/> (none if null).
    /// </summary>
    public static HeadScores Induction(GrokModel model, int repeatLength, int sequences, long seed, int? bosId,
        IReadOnlyList<int>? candidateIds = null)
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

    /// <summary>Runs the windows in batches (no gradients) and averages a per-head score of each layer's pattern over them.</summary>
    private static HeadScores PatternScores(GrokModel model, string name, List<long[]> windows, int batchSize, Func<Tensor, double[]> score)
    {
        var config = model.Config;
        var sums = Enumerable.Range(0, config.NumLayers).Select(_ => new double[config.NumHeads]).ToArray();
        bool wasTraining = model.training;
        model.eval();
        using var _ = no_grad();
        int rows = 0;
        foreach (var group in TokenWindows.Batches(windows, batchSize))
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
        if (wasTraining) model.train();
        return new HeadScores(name, sums.Select(layer => layer.Select(s => s / rows).ToArray()).ToArray());
    }
}
