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
        HandlesLayers(tokens, hooks, cache, 0, model.layers.Count, embed: true, unembed: true);

    /// <summary>
    /// True when <see cref="RunLayers"/> computes a step of layers first … first+count−1 (a cluster shard's part): one
    /// token of one sequence, no hooks object (given one, even empty, the general path runs), no gradients, those
    /// layers' weights and cache here.
    /// </summary>
    public bool HandlesLayers(Tensor tokens, ForwardHooks? hooks, KvCache? cache, int first, int count, bool embed, bool unembed) =>
        hooks is null && cache is not null && cache.BatchSize == 1 && Enumerable.Range(first, count).All(cache.Holds)
        && tokens.dim() == 2 && tokens.shape[0] == 1 && tokens.shape[1] == 1 && tokens.dtype == ScalarType.Int64
        && tokens.device_type == DeviceType.CPU && !is_grad_enabled() && weights.Value is { } w && w.Covers(first, count, embed, unembed);

    /// <summary>Runs the token through every layer, appends its keys and values, advances the cache; logits [1, 1, V].</summary>
    public Tensor Run(Tensor tokens, KvCache cache)
    {
        var logits = RunLayers(tokens, null, cache, 0, model.layers.Count, unembed: true);
        cache.Advance(1);
        return logits;
    }

    /// <summary>
    /// Runs layers first … first+count−1 on the token: from its embedding when <paramref name="residual"/> is null, else
    /// from that residual stream [1, 1, D] (the previous shard's output). Appends the layers' keys and values without
    /// advancing the cache (its owner does, once every part has run). Returns the logits [1, 1, V] when
    /// <paramref name="unembed"/>, else the residual stream [1, 1, D] for the next part: the same float32 values the
    /// whole-model step carries from layer to layer, so a model split into parts decodes bit for bit as one.
    /// </summary>
    public Tensor RunLayers(Tensor tokens, Tensor? residual, KvCache cache, int first, int count, bool unembed)
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

        if (residual is null)
        {
            float embeddingMultiplier = (float)config.EmbeddingMultiplier;
            float* embedded = w.Embedding + token * hidden;
            for (int i = 0; i < hidden; i++) ws.Residual[i] = embedded[i] * embeddingMultiplier;
        }
        else
        {
            if (residual.NumberOfElements != hidden || residual.dtype != ScalarType.Float32 || residual.device_type != DeviceType.CPU || !residual.is_contiguous())
                throw new ArgumentException($"The residual stream entering layer {first} must be {hidden} contiguous float32 values on the CPU, " +
                                            $"not [{string.Join(", ", residual.shape)}] {residual.dtype} on {residual.device}.");
            new ReadOnlySpan<float>(TensorMemory.Float32(residual, nameof(residual)), hidden).CopyTo(new Span<float>(ws.Residual, hidden));
        }
        RotaryTables(config, position, ws);
        float temperature = config.AttnTemperatureLen > 0 && position > config.AttnTemperatureLen
            ? (float)(Math.Log2(position) / Math.Log2(config.AttnTemperatureLen)) : 1f;

        for (int layer = first; layer < first + count; layer++)
        {
            var lw = w.Layers[layer]!;
            RowRmsNorm.Apply(ws.Residual, lw.PreAttentionNorm, eps, ws.Normed, 1, hidden, KernelPaths.Best);
            SingleTokenAttention.Run(config, lw, ws, cache.KeyMemory(layer), cache.ValueMemory(layer), cache.KeyIsTokenMemory, position, temperature, threads);
            RowRmsNorm.Apply(ws.Branch, lw.PostAttentionNorm, eps, ws.Normed, 1, hidden, KernelPaths.Best);
            TokenVectorMath.Add(ws.Residual, ws.Normed, hidden);

            RowRmsNorm.Apply(ws.Residual, lw.PreMoeNorm, eps, ws.Normed, 1, hidden, KernelPaths.Best);
            SingleTokenFeedForward.Run(config, lw, ws, threads);
            RowRmsNorm.Apply(ws.FeedForward, lw.PostMoeNorm, eps, ws.Normed, 1, hidden, KernelPaths.Best);
            TokenVectorMath.Add(ws.Residual, ws.Normed, hidden);
        }

        if (!unembed)
        {
            var output = empty([1, 1, hidden], dtype: ScalarType.Float32);
            new ReadOnlySpan<float>(ws.Residual, hidden).CopyTo(new Span<float>(TensorMemory.Float32(output, nameof(output)), hidden));
            return output;
        }
        RowRmsNorm.Apply(ws.Residual, w.FinalNorm, eps, ws.Normed, 1, hidden, KernelPaths.Best);
        var logits = empty([1, 1, config.VocabSize], dtype: ScalarType.Float32);
        float* result = TensorMemory.Float32(logits, nameof(logits));
        FloatGemv.Multiply(w.OutputHead, config.VocabSize, hidden, ws.Normed, result, threads);
        TokenVectorMath.Scale(result, config.VocabSize, (float)config.OutputMultiplier);
        TokenVectorMath.SoftCap(result, config.VocabSize, (float)config.FinalLogitSoftcap);
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
