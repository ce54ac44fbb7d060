using GrokLens.Kernels;

namespace GrokLens.Model.SingleToken;

/// <summary>
/// <see cref="GrokAttention"/> for one new token at <c>position</c>, written straight into the preallocated KV cache:
/// q, k, v; RoPE on q and k; scores over the cached keys × attn_output_multiplier, soft-capped, Grok-2's temperature,
/// pad keys filled with −1e30, softmax; weighted values; output projection. Reads <see cref="DecodeWorkspace.Normed"/>
/// and writes the attention output to <see cref="DecodeWorkspace.Branch"/>.
/// </summary>
internal static unsafe class SingleTokenAttention
{
    /// <param name="keys">This layer's cached keys of sequence 0, [capacity, Hkv, d].</param>
    /// <param name="values">This layer's cached values of sequence 0, [capacity, Hkv, d].</param>
    /// <param name="keyIsToken">Per cached position: 1 when it holds a real token (this step's flag already written).</param>
    public static void Run(GrokConfig config, DecodeWeights.LayerWeights w, DecodeWorkspace ws, float* keys, float* values,
        byte* keyIsToken, int position, float temperature, int threads)
    {
        int hidden = config.HiddenSize, heads = config.NumHeads, kvHeads = config.NumKvHeads, headDim = config.HeadDim;
        int group = config.QueryHeadsPerKvHead, kvWidth = kvHeads * headDim;
        FloatGemv.Multiply(w.Query, heads * headDim, hidden, ws.Normed, ws.Query, threads);
        FloatGemv.Multiply(w.Key, kvWidth, hidden, ws.Normed, ws.Key, threads);
        FloatGemv.Multiply(w.Value, kvWidth, hidden, ws.Normed, ws.Value, threads);
        RowRotary.Apply(ws.Query, ws.Cos, ws.Sin, ws.Query, 1, 1, heads, headDim, KernelPaths.Best);
        RowRotary.Apply(ws.Key, ws.Cos, ws.Sin, ws.Key, 1, 1, kvHeads, headDim, KernelPaths.Best);
        new Span<float>(ws.Key, kvWidth).CopyTo(new Span<float>(keys + (long)position * kvWidth, kvWidth));
        new Span<float>(ws.Value, kvWidth).CopyTo(new Span<float>(values + (long)position * kvWidth, kvWidth));

        int keyCount = position + 1;
        float multiplier = (float)config.AttnOutputMultiplier, cap = (float)config.AttnLogitSoftcap;
        float* scores = ws.Scores;
        for (int head = 0; head < heads; head++)
        {
            float* query = ws.Query + head * headDim;
            long kvOffset = (long)(head / group) * headDim;
            for (int t = 0; t < keyCount; t++)
                scores[t] = FloatGemv.Dot(query, keys + t * (long)kvWidth + kvOffset, headDim) * multiplier;
            TokenVectorMath.SoftCap(scores, keyCount, cap);
            if (temperature != 1f) TokenVectorMath.Scale(scores, keyCount, temperature);
            // xAI fills masked logits with −1e30 (not −∞): a row with no allowed key then spreads evenly.
            for (int t = 0; t < keyCount; t++)
                if (keyIsToken[t] == 0) scores[t] = -1e30f;
            TokenVectorMath.Softmax(scores, keyCount);

            float* mixed = ws.Mixed + head * headDim;
            new Span<float>(mixed, headDim).Clear();
            for (int t = 0; t < keyCount; t++)
            {
                TokenVectorMath.AddScaled(mixed, values + t * (long)kvWidth + kvOffset, scores[t], headDim);
            }
        }
        FloatGemv.Multiply(w.AttentionOutput, hidden, heads * headDim, ws.Mixed, ws.Branch, threads);
    }
}
