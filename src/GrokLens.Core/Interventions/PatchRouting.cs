using System.Text.Json.Serialization;
using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>Which part of the router's decision <see cref="PatchRouting"/> takes from the source run.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RoutingPart>))]
public enum RoutingPart
{
    /// <summary>The source's chosen experts; gates are this run's router probabilities of those experts.</summary>
    Indices,
    /// <summary>This run's chosen experts, weighted with the source's gate weights slot by slot.</summary>
    Gates,
    /// <summary>The source's experts and the source's gate weights.</summary>
    IndicesAndGates,
}

/// <summary>
/// Routing patching: the router's decision (chosen experts and/or gate weights) comes from the source run at chosen
/// layers and positions, while every expert still computes on THIS run's input (the pre-MoE normed residual). The
/// source run must have the same number of tokens and capture <c>moe.hook_topk_indices</c> and
/// <c>moe.hook_topk_weights</c> of those layers (see <see cref="InterventionRunner.SourceHooks"/>).
/// </summary>
public sealed record PatchRouting(IReadOnlyList<int>? Layers = null, RoutingPart Part = RoutingPart.IndicesAndGates,
    IReadOnlyList<int>? Positions = null) : Intervention
{
    public override string Describe() => Part switch
    {
        RoutingPart.Indices => "take the chosen experts (this run's gates for them)",
        RoutingPart.Gates => "take the gate weights (this run's experts)",
        _ => "take the chosen experts and gate weights",
    } + $" from the source run in {SetTopK.LayerText(Layers)} {Where(Positions)}; experts compute on this run's input";

    public override void Validate(GrokConfig config)
    {
        foreach (int layer in Layers ?? []) CheckLayer(config, layer);
        CheckPositions(Positions, config);
    }

    /// <summary>The source hooks this patch reads.</summary>
    public IEnumerable<string> SourceHooks(GrokConfig config) =>
        LayersOf(config).SelectMany(l => new[] { HookPoints.Layer(l, HookPoints.TopKIndices), HookPoints.Layer(l, HookPoints.TopKWeights) });

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context)
    {
        var source = context.Source ?? throw new InterventionException("routing patching needs a source run.");
        foreach (int layer in LayersOf(context.Config))
        {
            string indicesHook = HookPoints.Layer(layer, HookPoints.TopKIndices), gatesHook = HookPoints.Layer(layer, HookPoints.TopKWeights);
            var state = new RoutingState();
            yield return (HookPoints.Layer(layer, HookPoints.RouterProbs), (p, _) => state.RecordProbabilities(p));
            yield return (indicesHook, (indices, hook) =>
            {
                if (Part != RoutingPart.Gates) indices = Patched(source, indicesHook, indices, hook);
                return state.Indices = indices;
            });
            // Unpatched positions keep their own experts, so their own gates still fit them.
            yield return (gatesHook, (gates, hook) =>
                Part == RoutingPart.Indices ? state.GatesOf(state.Indices!) : Patched(source, gatesHook, gates, hook));
        }
    }

    private IEnumerable<int> LayersOf(GrokConfig config) => Layers is { Count: > 0 } ? Layers : Enumerable.Range(0, config.NumLayers);

    private Tensor Patched(ActivationCache source, string hook, Tensor activation, HookContext context)
    {
        if (!source.TryGet(hook, out var values)) throw new InterventionException($"the source run did not capture {hook}.");
        using var patch = values.unsqueeze(0).to(activation.device).to_type(activation.dtype);
        if (!patch.shape.SequenceEqual(activation.shape))
            throw new InterventionException(
                $"cannot patch {hook}: the source has shape [{string.Join(", ", values.shape)}], this run " +
                $"[{string.Join(", ", activation.shape.Skip(1))}] (same number of tokens and experts per token?).");
        using var mask = PositionMask.For(activation, 1, Positions, context.PositionOffset);
        return where(mask, patch, activation);
    }
}
