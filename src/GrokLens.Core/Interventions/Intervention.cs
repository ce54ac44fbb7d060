using System.Text.Json.Serialization;
using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Interventions;

/// <summary>
/// A change to the forward pass, expressed as hook functions. Interventions are immutable records, serialise to JSON
/// (the "type" property names the kind; see docs/interventions.md) and describe themselves in one readable line.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(AblateHeads), "ablate_heads")]
[JsonDerivedType(typeof(AblateExpert), "ablate_expert")]
[JsonDerivedType(typeof(BanExpert), "ban_expert")]
[JsonDerivedType(typeof(ForceExpert), "force_expert")]
[JsonDerivedType(typeof(SetTopK), "set_top_k")]
[JsonDerivedType(typeof(RenormaliseGates), "renormalise_gates")]
[JsonDerivedType(typeof(AddToActivation), "add_to_activation")]
[JsonDerivedType(typeof(ScaleActivation), "scale_activation")]
[JsonDerivedType(typeof(PatchActivation), "patch_activation")]
[JsonDerivedType(typeof(PatchRouting), "patch_routing")]
[JsonDerivedType(typeof(PatchExpertOutputs), "patch_expert_outputs")]
[JsonDerivedType(typeof(RouterBias), "router_bias")]
public abstract record Intervention
{
    /// <summary>Switched-off interventions stay in an experiment but do nothing.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>One readable line, e.g. "zero-ablate heads 0, 3 of layer 1 at all positions".</summary>
    public abstract string Describe();

    /// <summary>Throws <see cref="InterventionException"/> naming what does not exist in this model.</summary>
    public abstract void Validate(GrokConfig config);

    /// <summary>The hook functions that carry out this intervention in one run (fresh state per run).</summary>
    public abstract IEnumerable<(string HookName, HookFunction Function)> CreateHooks(InterventionContext context);

    protected static void CheckLayer(GrokConfig config, int layer)
    {
        if (layer < 0 || layer >= config.NumLayers)
            throw new InterventionException($"layer {layer} does not exist: the model has layers 0…{config.NumLayers - 1}.");
    }

    protected static void CheckExpert(GrokConfig config, int expert)
    {
        if (expert < 0 || expert >= config.NumExperts)
            throw new InterventionException($"expert {expert} does not exist: the model has experts 0…{config.NumExperts - 1}.");
    }

    protected static void CheckPositions(IReadOnlyList<int>? positions, GrokConfig config)
    {
        if (positions is null) return;
        foreach (int p in positions)
            if (p < 0 || p >= config.MaxPositions)
                throw new InterventionException($"position {p} is outside the context 0…{config.MaxPositions - 1}.");
    }

    protected static string Where(IReadOnlyList<int>? positions) =>
        positions is null || positions.Count == 0 ? "at all positions" : $"at position{(positions.Count == 1 ? "" : "s")} {string.Join(", ", positions)}";
}
