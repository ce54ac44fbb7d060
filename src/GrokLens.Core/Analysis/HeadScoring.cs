using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Training;

namespace GrokLens.Analysis;

/// <summary>Previous-token and induction scores per head (TransformerLens's definitions, see <see cref="HeadScores"/>).</summary>
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
    /// Induction score on <paramref name="sequences"/> random sequences of <paramref name="repeatLength"/> tokens, each
    /// repeated twice after the tokenizer's BOS (none without a tokenizer): mean attention from the second copy to the
    /// token after the earlier occurrence.
    /// </summary>
    public static HeadScores Induction(LoadedModel model, int repeatLength = 25, int sequences = 8, long seed = 0) =>
        Evaluator.InductionScores(model.Model, repeatLength, sequences, seed, model.Tokenizer?.BosId);
}
