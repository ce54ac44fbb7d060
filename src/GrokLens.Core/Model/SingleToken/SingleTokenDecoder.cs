using GrokLens.Hooks;
using GrokLens.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Model.SingleToken;

/// <summary>
/// A decode step (one token of one sequence, with a KV cache, nothing hooked, no gradients) on a resident float32 CPU
/// model, computed in C# on the weights' and the cache's memory: the same operations as the general path
/// (<see cref="GrokModel.Forward"/>) in the same order, within float32 rounding of it, without its ≈ 120 torch calls
/// per layer, which cost more than the arithmetic on small models (issue 13 item 6). Anything else (hooks, several
/// tokens, int8 or streamed matrices, a GPU, a shard's cache) takes the general path.
/// </summary>
internal sealed unsafe class SingleTokenDecoder(GrokModel model)
{
    private readonly Lazy<DecodeWeights?> weights = new(() => DecodeWeights.TryResolve(model));

    /// <summary>True when <see cref="Run"/> computes this call (else the caller runs the general path).</summary>
    public bool Handles(Tensor tokens, ForwardHooks? hooks, KvCache? cache) =>
        hooks is null && cache is not null && cache.HoldsEveryLayer && cache.BatchSize == 1
        && tokens.dim() == 2 && tokens.shape[0] == 1 && tokens.shape[1] == 1 && tokens.dtype == ScalarType.Int64
        && tokens.device_type == DeviceType.CPU && !is_grad_enabled() && weights.Value is not null;

    /// <summary>Runs the token through every layer, appends its keys and values, advances the cache; logits [1, 1, V].</summary>
    public Tensor Run(Tensor tokens, KvCache cache)
    {
        var config = model.Config;
        var w = weights.Value!;
        long token = tokens.item<long>();
        int position = cache.Length;
        if (position + 1 > config.MaxPositions)
            throw new ArgumentException($"{position + 1} positions exceed the model's context of {config.MaxPositions} tokens.");
        if (token < 0 || token >= config.VocabSize)
            throw new ArgumentException($"Token id {token} is outside the vocabulary 0…{config.VocabSize - 1}.");
        cache.MarkKeyIsToken(position, token != config.PadTokenId);
        var ws = cache.Workspace ??= new DecodeWorkspace(config, cache.Capacity);
        int hidden = config.HiddenSize, threads = get_num_threads();
        float eps = (float)config.RmsNormEps;

        float embeddingMultiplier = (float)config.EmbeddingMultiplier;
        float* embedded = w.Embedding + token * hidden;
        for (int i = 0; i < hidden; i++) ws.Residual[i] = embedded[i] * embeddingMultiplier;
        RotaryTables(config, position, ws);
        float temperature = config.AttnTemperatureLen > 0 && position > config.AttnTemperatureLen
            ? (float)(Math.Log2(position) / Math.Log2(config.AttnTemperatureLen)) : 1f;

        for (int layer = 0; layer < w.Layers.Length; layer++)
        {
            var lw = w.Layers[layer];
            TokenVectorMath.RmsNorm(ws.Residual, lw.PreAttentionNorm, eps, ws.Normed, hidden);
            SingleTokenAttention.Run(config, lw, ws, cache.KeyMemory(layer), cache.ValueMemory(layer), cache.KeyIsTokenMemory, position, temperature, threads);
            TokenVectorMath.RmsNorm(ws.Branch, lw.PostAttentionNorm, eps, ws.Normed, hidden);
            TokenVectorMath.Add(ws.Residual, ws.Normed, hidden);

            TokenVectorMath.RmsNorm(ws.Residual, lw.PreMoeNorm, eps, ws.Normed, hidden);
            SingleTokenFeedForward.Run(config, lw, ws, threads);
            TokenVectorMath.RmsNorm(ws.FeedForward, lw.PostMoeNorm, eps, ws.Normed, hidden);
            TokenVectorMath.Add(ws.Residual, ws.Normed, hidden);
        }

        TokenVectorMath.RmsNorm(ws.Residual, w.FinalNorm, eps, ws.Normed, hidden);
        var logits = empty([1, 1, config.VocabSize], dtype: ScalarType.Float32);
        float* output = TensorMemory.Float32(logits, nameof(logits));
        FloatGemv.Multiply(w.OutputHead, config.VocabSize, hidden, ws.Normed, output, threads);
        TokenVectorMath.Scale(output, config.VocabSize, (float)config.OutputMultiplier);
        TokenVectorMath.SoftCap(output, config.VocabSize, (float)config.FinalLogitSoftcap);
        cache.Advance(1);
        return logits;
    }

    /// <summary>cos and sin of position·θ_j, the phase in float32 as <see cref="RotaryEmbedding.Tables"/> forms it.</summary>
    private static void RotaryTables(GrokConfig config, int position, DecodeWorkspace ws)
    {
        int half = config.HeadDim / 2;
        for (int j = 0; j < half; j++)
        {
            float inverseFrequency = (float)(1.0 / Math.Pow(config.RopeTheta, 2.0 * j / config.HeadDim));
            float phase = position * inverseFrequency;
            ws.Cos[j] = MathF.Cos(phase);
            ws.Sin[j] = MathF.Sin(phase);
        }
    }
}
