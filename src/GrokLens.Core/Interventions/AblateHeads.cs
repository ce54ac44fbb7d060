using System.Text.Json.Serialization;
using GrokLens.Hooks;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

[JsonConverter(typeof(JsonStringEnumConverter<AblationMode>))]
public enum AblationMode { Zero, Mean }

/// <summary>
/// Removes attention heads' contributions: their per-head values z (attn.hook_z) become zero, or their mean over the
/// run's positions. The output projection then adds nothing (zero) or a position-independent average (mean).
/// </summary>
public sealed record AblateHeads(IReadOnlyList<int> Layers, IReadOnlyList<int> Heads, AblationMode Mode = AblationMode.Zero,
    IReadOnlyList<int>? Positions = null) : Intervention
{
    public override string Describe() =>
        $"{Mode.ToString().ToLowerInvariant()}-ablate head{(Heads.Count == 1 ? "" : "s")} {string.Join(", ", Heads)} " +
        $"of layer{(Layers.Count == 1 ? "" : "s")} {string.Join(", ", Layers)} {Where(Positions)}";

    public override void Validate(GrokConfig config)
    {
        if (Layers.Count == 0 || Heads.Count == 0) throw new InterventionException("choose at least one layer and one head.");
        foreach (int layer in Layers) CheckLayer(config, layer);
        foreach (int head in Heads)
            if (head < 0 || head >= config.NumHeads)
                throw new InterventionException($"head {head} does not exist: the model has heads 0…{config.NumHeads - 1}.");
        CheckPositions(Positions, config);
    }

    public override IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context) =>
        Layers.Select(layer => (HookPoints.Layer(layer, HookPoints.Z), (HookFunction)Ablate));

    private Tensor? Ablate(Tensor z, HookContext context)
    {
        // z: [B, T, H, d]
        using var mask = PositionMask.ForHeads(z, 1, Positions, context.PositionOffset, 2, Heads);
        if (Mode == AblationMode.Zero) return z.masked_fill(mask, 0.0);
        using var mean = z.mean([1], keepdim: true);
        return where(mask, mean.expand_as(z), z);
    }
}
