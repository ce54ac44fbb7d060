using GrokLens.Hooks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Model;

/// <summary>
/// Grok's router and experts (SPEC §2.5, §6.3.2): p = softmax(x·W_routerᵀ) in float32, Grok-2 soft-capping the logits
/// first; the top-k experts of each token with their raw probabilities as gates (not renormalised); expert e computes
/// linear_1(gelu(x·linear) ⊙ x·linear_v); the output is Σ gate·expert output.
/// </summary>
public sealed class GrokMoE : nn.Module
{
    public readonly Parameter routerWeight;
    private readonly GrokConfig config;

    public GrokMoE(int layer, GrokConfig config, ParameterBuilder weights) : base($"moe{layer}")
    {
        this.config = config;
        routerWeight = weights.Create(new(WeightKind.Router, layer), [config.NumExperts, config.HiddenSize]);
        RegisterComponents();
    }

    /// <param name="x">Pre-MoE-normed input [B, T, D].</param>
    /// <param name="w">The layer's expert matrices.</param>
    public Tensor Forward(Tensor x, ExpertMatrices w, LayerHookNames names, ForwardContext context)
    {
        var hooks = context.Hooks;
        int layer = names.Layer;

        var routerLogits = hooks.Hook(names.RouterLogits, layer, linear(x, routerWeight));
        if (config.RouterLogitSoftcap > 0)
        {
            var cap = config.RouterLogitSoftcap;
            routerLogits = hooks.Hook(names.RouterLogitsCapped, layer, routerLogits.div(cap).tanh().mul(cap));
        }
        var probabilities = hooks.Hook(names.RouterProbs, layer, softmax(routerLogits, -1));
        var (topWeights, topIndices) = probabilities.topk(config.TopK, -1);
        // A hook may change the experts (and their number) per token; the slots follow the indices it returns.
        topIndices = hooks.Hook(names.TopKIndices, layer, topIndices);
        topWeights = hooks.Hook(names.TopKWeights, layer, topWeights);
        if (!topWeights.shape.SequenceEqual(topIndices.shape))
            throw new InvalidOperationException(
                $"{names.TopKWeights} has shape [{string.Join(", ", topWeights.shape)}] but {names.TopKIndices} has " +
                $"[{string.Join(", ", topIndices.shape)}]; replace both together when changing the number of experts.");
        if (TryRunExpertsInCpuKernels(x, topIndices, topWeights, w, names, hooks) is { } fused)
            return hooks.Hook(names.MoeOut, layer, fused);
        var expertOutputs = hooks.Hook(names.ExpertOut, layer, RunChosenExperts(x, topIndices, w, names, hooks));
        var gated = expertOutputs * topWeights.unsqueeze(-1).to_type(expertOutputs.dtype);
        return hooks.Hook(names.MoeOut, layer, gated.sum(2));
    }

    /// <summary>
    /// Evaluates each expert once, on the (token, slot) rows that chose it: rows are sorted by expert so each expert's
    /// rows form one block, and results go back to (token, slot) order. Returns [B, T, slots, D].
    /// </summary>
    private Tensor RunChosenExperts(Tensor x, Tensor indices, ExpertMatrices w, LayerHookNames names, ForwardHooks? hooks)
    {
        long batch = x.shape[0], length = x.shape[1], hidden = x.shape[2], slots = indices.shape[2];
        // A routing hook may choose no expert at all (every expert ablated): nothing to run, the MoE adds zero.
        if (slots == 0) return zeros(batch, length, 0, hidden, dtype: x.dtype, device: x.device);
        if (batch * length == 1) return RunOneToken(x, indices, w, names, hooks);
        var flatExperts = indices.reshape(-1);
        // The router's own top-k is always in range; only indices a hook supplied need the extra range check.
        if (hooks.Wants(names.TopKIndices) && flatExperts.min().item<long>() < 0) throw ExpertOutOfRange(names);
        var counts = bincount(flatExperts, null, config.NumExperts).cpu().data<long>().ToArray();
        if (counts.Length > config.NumExperts) throw ExpertOutOfRange(names);

        var order = flatExperts.argsort();
        var sortedInputs = x.reshape(-1, hidden).index_select(0, order.div(slots, RoundingMode.floor));

        var gateInput = PerExpert(sortedInputs, counts, w.Gate);
        if (hooks.Wants(names.ExpertPre))
            gateInput = ToSorted(hooks!.Apply(names.ExpertPre, names.Layer, ToSlots(gateInput)));
        var activation = Gelu.TanhTimes(gateInput, PerExpert(sortedInputs, counts, w.Up));
        if (hooks.Wants(names.ExpertPost))
            activation = ToSorted(hooks!.Apply(names.ExpertPost, names.Layer, ToSlots(activation)));
        return ToSlots(PerExpert(activation, counts, w.Down));

        Tensor ToSlots(Tensor sorted) =>
            zeros_like(sorted).index_copy(0, order, sorted).view(batch, length, slots, sorted.shape[1]);

        Tensor ToSorted(Tensor bySlot) => bySlot.reshape(-1, bySlot.shape[3]).index_select(0, order);
    }

    /// <summary>
    /// One token (a decode step): each slot's expert runs on the token's row, in slot order, which is already
    /// (token, slot) order, so nothing is counted, sorted or scattered. Returns [1, 1, slots, D].
    /// </summary>
    private Tensor RunOneToken(Tensor x, Tensor indices, ExpertMatrices w, LayerHookNames names, ForwardHooks? hooks)
    {
        long slots = indices.shape[2], hidden = x.shape[2];
        var experts = indices.reshape(-1).cpu().data<long>().ToArray();
        if (experts.Any(e => e < 0 || e >= config.NumExperts)) throw ExpertOutOfRange(names);
        var row = x.reshape(1, hidden);
        var gateInput = cat(experts.Select(e => w.Gate.Multiply((int)e, row)).ToList(), 0);
        if (hooks.Wants(names.ExpertPre))
            gateInput = hooks!.Apply(names.ExpertPre, names.Layer, gateInput.view(1, 1, slots, -1)).reshape(slots, -1);
        var activation = Gelu.TanhTimes(gateInput, cat(experts.Select(e => w.Up.Multiply((int)e, row)).ToList(), 0));
        if (hooks.Wants(names.ExpertPost))
            activation = hooks!.Apply(names.ExpertPost, names.Layer, activation.view(1, 1, slots, -1)).reshape(slots, -1);
        return cat(experts.Select((e, slot) => w.Down.Multiply((int)e, activation.narrow(0, slot, 1))).ToList(), 0).view(1, 1, slots, hidden);
    }

    /// <summary>
    /// Several tokens' experts in C# on resident or streamed float32 CPU weights when nothing inside the experts is hooked
    /// (<see cref="Kernels.ExpertPrefill"/>); null otherwise. Returns the gated sum [B, T, D].
    /// </summary>
    private Tensor? TryRunExpertsInCpuKernels(Tensor x, Tensor indices, Tensor gates, ExpertMatrices w, LayerHookNames names, ForwardHooks? hooks)
    {
        if (x.shape[0] * x.shape[1] <= 1 || is_grad_enabled() || hooks.Wants(names.ExpertPre) || hooks.Wants(names.ExpertPost)
            || hooks.Wants(names.ExpertOut) || x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU
            || gates.dtype != ScalarType.Float32 || indices.device_type != DeviceType.CPU || indices.dtype != ScalarType.Int64
            || indices.shape[2] == 0
            || w.Gate is not FloatExperts { InCpuMemory: true } gate || w.Up is not FloatExperts { InCpuMemory: true } up
            || w.Down is not FloatExperts { InCpuMemory: true } down)
            return null;
        long hidden = x.shape[2];
        var experts = indices.reshape(-1).data<long>().ToArray();
        if (experts.Any(e => e < 0 || e >= config.NumExperts)) throw ExpertOutOfRange(names);
        using var rows = x.reshape(-1, hidden);
        using var flatGates = gates.reshape(-1, indices.shape[2]);
        using var sum = Kernels.ExpertPrefill.Run(rows, experts, flatGates, gate, up, down, get_num_threads(), Kernels.KernelPaths.Best);
        return sum.view(x.shape);
    }

    private InvalidOperationException ExpertOutOfRange(LayerHookNames names) =>
        new($"{names.TopKIndices} holds an expert index outside 0…{config.NumExperts - 1}.");

    /// <summary>Multiplies each expert's block of sorted rows by that expert's matrix; experts no row chose are skipped.</summary>
    private static Tensor PerExpert(Tensor sortedRows, long[] counts, IExpertMatrices matrices)
    {
        var blocks = new List<Tensor>(counts.Length);
        long start = 0;
        for (int expert = 0; expert < counts.Length; expert++)
        {
            if (counts[expert] == 0) continue;
            blocks.Add(matrices.Multiply(expert, sortedRows.narrow(0, start, counts[expert])));
            start += counts[expert];
        }
        return cat(blocks, 0);
    }
}
