namespace GrokLens.Model;

/// <summary>
/// The role of each weight in the model (SPEC §3 for Grok-1, §6.3 for Grok-2's dense MLP and output head). Checkpoint
/// formats name these differently; each format has one name table that maps its names to these roles.
/// </summary>
public enum WeightKind
{
    /// <summary>Token embedding [V, D]; also the output head when the embeddings are tied.</summary>
    Embedding,
    /// <summary>Final RMSNorm scale [D].</summary>
    FinalNorm,
    /// <summary>Untied output head [V, D] (Grok-2's lm_head).</summary>
    OutputHead,

    PreAttentionNorm,
    /// <summary>Query projection [H·d, D].</summary>
    Query,
    /// <summary>Key projection [Hkv·d, D].</summary>
    Key,
    /// <summary>Value projection [Hkv·d, D].</summary>
    Value,
    /// <summary>Attention output projection [D, H·d].</summary>
    AttentionOutput,
    PostAttentionNorm,
    PreMoeNorm,
    /// <summary>Router [E, D].</summary>
    Router,
    /// <summary>Experts' gate projections (GELU input), stacked [E, F, D].</summary>
    ExpertGate,
    /// <summary>Experts' up projections (the multiplier), stacked [E, F, D].</summary>
    ExpertUp,
    /// <summary>Experts' down projections, stacked [E, D, F].</summary>
    ExpertDown,
    PostMoeNorm,
    /// <summary>Grok-2's dense MLP beside the experts: gate [Fd, D], up [Fd, D], down [D, Fd].</summary>
    DenseGate,
    DenseUp,
    DenseDown,
}
