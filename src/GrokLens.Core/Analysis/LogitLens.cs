using GrokLens.Engine;
using GrokLens.Hooks;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Analysis;

/// <summary>A predicted next token and its probability.</summary>
public readonly record struct TokenProbability(int TokenId, float Probability);

/// <summary>
/// Logit lens: what the model would predict if the residual stream stopped at a layer. Each stage's residual goes
/// through the final RMSNorm and the unembedding (with the output multiplier), exactly as the last layer's does, so the
/// last stage reproduces the model's own logits.
/// </summary>
public sealed class LogitLensResult(IReadOnlyList<string> stages, TokenProbability[][][] top)
{
    /// <summary>Stage names: "embed", then "layer 0" … "layer L−1" (the residual after that layer).</summary>
    public IReadOnlyList<string> Stages { get; } = stages;

    /// <summary>Top predictions, indexed [stage][position][rank].</summary>
    public TokenProbability[][][] Top { get; } = top;
}

public static class LogitLens
{
    /// <summary>Hooks a run must capture for <see cref="Compute"/>: the embedding and every layer's output residual.</summary>
    public static IReadOnlyList<string> RequiredHooks(int numLayers) =>
        [HookPoints.Embed, .. Enumerable.Range(0, numLayers).Select(l => HookPoints.Layer(l, HookPoints.ResidPost))];

    /// <summary>Largest [rows × vocab] logits block computed at once (64 MB of float32).</summary>
    private const long MaxLogitElements = 16L << 20;

    public static LogitLensResult Compute(IModelEngine model, ActivationCache cache, int topK = 5) =>
        Compute(model, cache, topK, MaxLogitElements);

    /// <summary><see cref="Compute(IModelEngine, ActivationCache, int)"/> with the batch budget exposed for tests.</summary>
    internal static LogitLensResult Compute(IModelEngine model, ActivationCache cache, int topK, long maxLogitElements)
    {
        var stages = new List<string> { "embed" };
        var residuals = new List<Tensor> { cache[HookPoints.Embed] };
        for (int layer = 0; layer < model.Config.NumLayers; layer++)
        {
            stages.Add($"layer {layer}");
            residuals.Add(cache[HookPoints.Layer(layer, HookPoints.ResidPost)]);
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int positions = (int)residuals[0].shape[0], vocab = model.Config.VocabSize, k = Math.Min(topK, vocab);
        // Stages go through in batches (one norm, matmul and top-k per batch): a few large ops run far faster on the CPU
        // than many small ones, and the batch keeps the [rows × vocab] logits within a budget for a 131k vocabulary.
        int stagesPerBatch = (int)Math.Clamp(maxLogitElements / Math.Max(1L, (long)positions * vocab), 1, residuals.Count);
        var top = new TokenProbability[residuals.Count][][];
        for (int first = 0; first < residuals.Count; first += stagesPerBatch)
        {
            var batch = residuals.Skip(first).Take(stagesPerBatch).ToArray();
            var logits = Logits(model, cat(batch, 0));
            // softmax(x)[i] = exp(x[i] - logsumexp(x)): only the top k probabilities are formed, not a [rows × vocab] softmax.
            var (topLogits, ids) = logits.topk(k, -1);
            var probabilities = topLogits.sub(logits.logsumexp(-1, keepdim: true)).exp();
            var p = probabilities.data<float>().ToArray();
            var id = ids.data<long>().ToArray();
            for (int s = 0; s < batch.Length; s++)
            {
                int offset = s * positions * k;
                top[first + s] = Enumerable.Range(0, positions)
                    .Select(t => Enumerable.Range(0, k)
                        .Select(r => new TokenProbability((int)id[offset + t * k + r], p[offset + t * k + r])).ToArray())
                    .ToArray();
            }
        }
        return new LogitLensResult(stages, top);
    }

    /// <summary>
    /// Residuals [T, D] read as the model reads its last one: final RMSNorm, unembedding, output multiplier (and Grok-2's
    /// final soft-cap), through <see cref="Model.GrokModel.Logits"/>. Returns logits [T, V] on the CPU; applied to the
    /// last layer's <c>hook_resid_post</c> they are the model's own logits.
    /// </summary>
    public static Tensor Logits(IModelEngine model, Tensor residual) => model.ReadOut(residual);
}
