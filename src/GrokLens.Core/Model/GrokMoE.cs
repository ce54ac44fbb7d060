using GrokLens.Checkpoints;
using GrokLens.Hooks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Model;

/// <summary>
/// Grok-1's router and experts (SPEC §2.5): p = softmax(x·W_routerᵀ) in float32; the top-k experts of each token with
/// their raw probabilities as gates (not renormalised); expert e computes linear_1(gelu_tanh(x·linear) ⊙ x·linear_v);
/// the output is Σ gate·expert output. Expert weights are stacked [E, out, in].
/// </summary>
public sealed class GrokMoE : nn.Module
{
    public readonly Parameter routerWeight;
    public readonly Parameter gateProjection;
    public readonly Parameter upProjection;
    public readonly Parameter downProjection;
    private readonly GrokConfig config;

    /// <param name="layerPrefix">e.g. <c>transformer.decoder_layer.3</c>: the router lives there, the experts under <c>.moe</c>.</param>
    public GrokMoE(string layerPrefix, GrokConfig config, ParameterBuilder weights) : base(layerPrefix + ".moe")
    {
        this.config = config;
        long d = config.HiddenSize, f = config.ExpertSize, e = config.NumExperts;
        routerWeight = weights.Create(layerPrefix + ".router.weight", [e, d]);
        gateProjection = weights.Create(layerPrefix + ".moe.linear.weight", [e, f, d]);
        upProjection = weights.Create(layerPrefix + ".moe.linear_v.weight", [e, f, d]);
        downProjection = weights.Create(layerPrefix + ".moe.linear_1.weight", [e, d, f]);
        RegisterComponents();
    }

    /// <summary>
    /// int8 experts of the running layer (weight-only int8, streaming), set while the layer runs; null when the stacked
    /// parameters hold float32 weights. Each chosen expert is then dequantised on its own just before its matmul.
    /// </summary>
    public QuantizedExperts? Int8Experts { get; set; }

    /// <param name="x">Pre-MoE-normed input [B, T, D].</param>
    public Tensor Forward(Tensor x, LayerHookNames names, ForwardContext context)
    {
        var hooks = context.Hooks;
        int layer = names.Layer;
        long batch = x.shape[0], length = x.shape[1], hidden = x.shape[2];

        var routerLogits = hooks.Hook(names.RouterLogits, layer, linear(x, routerWeight));
        var probabilities = hooks.Hook(names.RouterProbs, layer, softmax(routerLogits, -1));
        var (topWeights, topIndices) = probabilities.topk(config.TopK, -1);
        // A hook may change the experts (and their number) per token; the slots follow the indices it returns.
        topIndices = hooks.Hook(names.TopKIndices, layer, topIndices);
        topWeights = hooks.Hook(names.TopKWeights, layer, topWeights);
        if (!topWeights.shape.SequenceEqual(topIndices.shape))
            throw new InvalidOperationException(
                $"{names.TopKWeights} has shape [{string.Join(", ", topWeights.shape)}] but {names.TopKIndices} has " +
                $"[{string.Join(", ", topIndices.shape)}]; replace both together when changing the number of experts.");
        var expertOutputs = hooks.Hook(names.ExpertOut, layer, RunChosenExperts(x, topIndices, names, hooks));
        var gated = expertOutputs * topWeights.unsqueeze(-1).to_type(expertOutputs.dtype);
        return hooks.Hook(names.MoeOut, layer, gated.sum(2));
    }

    /// <summary>
    /// Evaluates each expert once, on the (token, slot) rows that chose it: rows are sorted by expert so each expert's
    /// rows form one block, and results go back to (token, slot) order. Returns [B, T, slots, D].
    /// </summary>
    private Tensor RunChosenExperts(Tensor x, Tensor indices, LayerHookNames names, ForwardHooks? hooks)
    {
        long batch = x.shape[0], length = x.shape[1], hidden = x.shape[2], slots = indices.shape[2];
        var flatExperts = indices.reshape(-1);
        // The router's own top-k is always in range; only indices a hook supplied need the extra range check.
        if (hooks.Wants(names.TopKIndices) && flatExperts.min().item<long>() < 0) throw ExpertOutOfRange(names);
        var counts = bincount(flatExperts, null, config.NumExperts).cpu().data<long>().ToArray();
        if (counts.Length > config.NumExperts) throw ExpertOutOfRange(names);

        var order = flatExperts.argsort();
        var sortedInputs = x.reshape(-1, hidden).index_select(0, order.div(slots, RoundingMode.floor));

        var int8 = Int8Experts;
        var gateInput = PerExpert(sortedInputs, counts, ExpertMatrix(gateProjection, int8?.Gate));
        if (hooks.Wants(names.ExpertPre))
            gateInput = ToSorted(hooks!.Apply(names.ExpertPre, names.Layer, ToSlots(gateInput)));
        var activation = gelu(gateInput, TorchSharp.Modules.GELU.Approximate.tanh) * PerExpert(sortedInputs, counts, ExpertMatrix(upProjection, int8?.Up));
        if (hooks.Wants(names.ExpertPost))
            activation = ToSorted(hooks!.Apply(names.ExpertPost, names.Layer, ToSlots(activation)));
        return ToSlots(PerExpert(activation, counts, ExpertMatrix(downProjection, int8?.Down)));

        Tensor ToSlots(Tensor sorted) =>
            zeros_like(sorted).index_copy(0, order, sorted).view(batch, length, slots, sorted.shape[1]);

        Tensor ToSorted(Tensor bySlot) => bySlot.reshape(-1, bySlot.shape[3]).index_select(0, order);
    }

    private InvalidOperationException ExpertOutOfRange(LayerHookNames names) =>
        new($"{names.TopKIndices} holds an expert index outside 0…{config.NumExperts - 1}.");

    /// <summary>Expert e's [out, in] matrix: a view of the stacked float32 parameter, or the int8 one dequantised alone.</summary>
    private static Func<int, Tensor> ExpertMatrix(Parameter stacked, QuantizedWeight? int8) =>
        int8 is null ? expert => stacked[expert] : expert => int8.Dequantize(expert);

    /// <summary>
    /// Multiplies each expert's block of sorted rows by that expert's weight matrix; experts no row chose are skipped, so
    /// their int8 weights are never dequantised, and each dequantised matrix is freed right after its matmul.
    /// </summary>
    private static Tensor PerExpert(Tensor sortedRows, long[] counts, Func<int, Tensor> expertMatrix)
    {
        var blocks = new List<Tensor>(counts.Length);
        long start = 0;
        for (int expert = 0; expert < counts.Length; expert++)
        {
            if (counts[expert] == 0) continue;
            using var weight = expertMatrix(expert);
            blocks.Add(linear(sortedRows.narrow(0, start, counts[expert]), weight));
            start += counts[expert];
        }
        return cat(blocks, 0);
    }
}
