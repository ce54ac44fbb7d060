namespace GrokLens.Model;

/// <summary>One weight of the model: its role and, for decoder-layer weights, its layer (−1 for global weights).</summary>
public readonly record struct WeightId(WeightKind Kind, int Layer = -1)
{
    public static WeightId Global(WeightKind kind) => new(kind);

    public bool IsLayerWeight => Layer >= 0;

    /// <summary>Expert matrices: stored stacked [E, out, in] or one tensor per expert.</summary>
    public bool IsExpertStack => Kind is WeightKind.ExpertGate or WeightKind.ExpertUp or WeightKind.ExpertDown;

    /// <summary>
    /// Projection matrices: what quantised checkpoints store as int8 and what int8 weights and layer streaming keep out of
    /// the model's parameters. Norms, routers and embeddings are always float32 parameters.
    /// </summary>
    public bool IsMatrix => Kind is WeightKind.Query or WeightKind.Key or WeightKind.Value or WeightKind.AttentionOutput
        or WeightKind.ExpertGate or WeightKind.ExpertUp or WeightKind.ExpertDown
        or WeightKind.DenseGate or WeightKind.DenseUp or WeightKind.DenseDown;

    /// <summary>The canonical name (<see cref="GrokParameterNames"/>).</summary>
    public override string ToString() => GrokParameterNames.Of(this);
}
