namespace GrokLens.Model;

/// <summary>The attention's projections: W_q [H·d, D], W_k and W_v [Hkv·d, D], W_o [D, H·d].</summary>
public sealed record AttentionMatrices(IMatrix Query, IMatrix Key, IMatrix Value, IMatrix Output);

/// <summary>The experts' matrices: linear (gate, GELU input) and linear_v (up) [F, D], linear_1 (down) [D, F].</summary>
public sealed record ExpertMatrices(IExpertMatrices Gate, IExpertMatrices Up, IExpertMatrices Down);

/// <summary>Grok-2's dense MLP beside the experts: gate and up [Fd, D], down [D, Fd].</summary>
public sealed record MlpMatrices(IMatrix Gate, IMatrix Up, IMatrix Down);

/// <summary>
/// Every projection matrix of one decoder layer, present while the layer runs. Disposing releases what the source
/// made present for this run (a streamed layer's tensors); resident matrices are not freed.
/// </summary>
public sealed class LayerMatrices(AttentionMatrices attention, ExpertMatrices experts, MlpMatrices? mlp, IDisposable? release = null)
    : IDisposable
{
    public AttentionMatrices Attention { get; } = attention;
    public ExpertMatrices Experts { get; } = experts;

    /// <summary>The dense MLP of a residual-MoE layer (Grok-2); null for Grok-1.</summary>
    public MlpMatrices? Mlp { get; } = mlp;

    public void Dispose() => release?.Dispose();
}
