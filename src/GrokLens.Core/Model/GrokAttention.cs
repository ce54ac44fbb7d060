using GrokLens.Hooks;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Model;

/// <summary>
/// Grouped-query attention of Grok (SPEC §2.4, §6.3.3): q, k, v projections without bias, half-split RoPE on q and k,
/// logits × attn_output_multiplier, then cap·tanh(logits/cap), Grok-2's temperature for queries past
/// attn_temperature_len, causal and pad mask, softmax, weighted values, output projection. Query head h reads key/value
/// head ⌊h / (H/Hkv)⌋. Weights are in PyTorch layout [out, in].
/// </summary>
public sealed class GrokAttention(GrokConfig config)
{
    /// <param name="x">Pre-attention-normed input [B, T, D].</param>
    /// <param name="w">The layer's W_q, W_k, W_v, W_o.</param>
    public Tensor Forward(Tensor x, AttentionMatrices w, LayerHookNames names, ForwardContext context)
    {
        var hooks = context.Hooks;
        int layer = names.Layer;
        long batch = x.shape[0], length = x.shape[1];
        int heads = config.NumHeads, kvHeads = config.NumKvHeads, headDim = config.HeadDim;
        int group = config.QueryHeadsPerKvHead;

        var q = RotaryEmbedding.Apply(w.Query.Multiply(x).view(batch, length, heads, headDim), context.Cos, context.Sin);
        var k = RotaryEmbedding.Apply(w.Key.Multiply(x).view(batch, length, kvHeads, headDim), context.Cos, context.Sin);
        var v = w.Value.Multiply(x).view(batch, length, kvHeads, headDim);
        q = hooks.Hook(names.Q, layer, q);
        k = hooks.Hook(names.K, layer, k);
        v = hooks.Hook(names.V, layer, v);

        var (allKeys, allValues) = context.Cache is null ? (k, v) : context.Cache.Append(layer, k, v);
        long keyLength = allKeys.shape[1];

        // Group the query heads that share a KV head so K and V are never expanded: [B, Hkv, G·T, d].
        var groupedQueries = q.transpose(1, 2).reshape(batch, kvHeads, group * length, headDim);
        var keysByHead = allKeys.transpose(1, 2);
        var valuesByHead = allValues.transpose(1, 2);

        var scores = groupedQueries.matmul(keysByHead.transpose(-2, -1))
            .view(batch, heads, length, keyLength)
            .mul(config.AttnOutputMultiplier);
        scores = hooks.Hook(names.AttnScoresRaw, layer, scores);
        if (config.AttnLogitSoftcap > 0)
            scores = scores.div(config.AttnLogitSoftcap).tanh().mul(config.AttnLogitSoftcap);
        scores = hooks.Hook(names.AttnScores, layer, scores);
        if (config.AttnTemperatureLen > 0)
        {
            // Grok-2 (SGLang's order): the temperature multiplies the capped scores of queries past attn_temperature_len.
            if (context.Temperature is { } temperature) scores = scores.mul(temperature);
            scores = hooks.Hook(names.AttnScoresTempered, layer, scores);
        }

        // xAI fills masked logits with −1e30 (not −∞): a row with no allowed key then spreads evenly, as in model.py.
        var pattern = softmax(scores.masked_fill(context.AllowedKeys.logical_not(), -1e30), -1);
        pattern = hooks.Hook(names.Pattern, layer, pattern);

        var z = pattern.view(batch, kvHeads, group * length, keyLength).matmul(valuesByHead)
            .view(batch, heads, length, headDim).transpose(1, 2);
        z = hooks.Hook(names.Z, layer, z);

        Tensor output;
        if (hooks.Wants(names.Result))
        {
            // Per-head contributions through the output projection; their sum is the attention output.
            using var outputWeight = w.Output.ToFloat32();
            using var outputByHead = outputWeight.view(config.HiddenSize, heads, headDim);
            var result = einsum("bthd,nhd->bthn", z, outputByHead);
            result = hooks.Hook(names.Result, layer, result);
            output = result.sum(2);
        }
        else
        {
            output = w.Output.Multiply(z.reshape(batch, length, heads * headDim));
        }
        return hooks.Hook(names.AttnOut, layer, output);
    }
}
