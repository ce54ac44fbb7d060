namespace GrokLens.Web.Views;

/// <summary>A predicted token with its text and probability.</summary>
public readonly record struct Prediction(int Id, string Text, float Probability);

/// <summary>
/// Everything the Explore views draw for one run, as plain arrays (no tensors): built once per run by
/// <see cref="ExploreResultBuilder"/>, then read by any number of renders.
/// </summary>
public sealed class ExploreResult
{
    public required string ModelName { get; init; }
    public required TokenView[] Tokens { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int Experts { get; init; }
    public required int TopK { get; init; }
    public required double SoftCap { get; init; }

    /// <summary>Views that cannot be drawn (a dump without their hooks), by view name, with the reason to show instead.</summary>
    public IReadOnlyDictionary<string, string> Unavailable { get; init; } = new Dictionary<string, string>();

    /// <summary>NaN and ±∞ values in each view's data, by view name; the plots draw them as gaps.</summary>
    public IReadOnlyDictionary<string, long> NonFinite { get; init; } = new Dictionary<string, long>();

    /// <summary>Attention probabilities [layer][head][query][key].</summary>
    public required float[][][][] Pattern { get; init; }

    /// <summary>Attention scores before the soft-cap [layer][head][query][key]; empty when only the pattern was captured.</summary>
    public required float[][][][] ScoresRaw { get; init; }

    /// <summary>Attention scores after the soft-cap, before the mask [layer][head][query][key]; empty like <see cref="ScoresRaw"/>.</summary>
    public required float[][][][] ScoresCapped { get; init; }

    /// <summary>Router probabilities [layer][token][expert].</summary>
    public required float[][][] RouterProbs { get; init; }

    /// <summary>
    /// [layer][token][expert] softmax of the router logits before the router softcap (Grok-2): what the router would give
    /// without the cap. Empty for a model without a router cap or a dump without moe.hook_router_logits.
    /// </summary>
    public float[][][] RouterProbsUncapped { get; init; } = [];

    /// <summary>
    /// [layer][token] the dense MLP's share of the feed-forward output, ‖mlp‖ / (‖mlp‖ + ‖moe‖) (Grok-2, whose dense MLP
    /// runs beside the experts). Empty without a dense branch or without hook_mlp_out and hook_moe_out.
    /// </summary>
    public float[][] DenseShare { get; init; } = [];

    /// <summary>Chosen experts, highest probability first [layer][token][slot].</summary>
    public required int[][][] ChosenExperts { get; init; }

    /// <summary>Gate weights of the chosen experts [layer][token][slot].</summary>
    public required float[][][] GateWeights { get; init; }

    /// <summary>Gated expert neurons gelu(x·W)⊙(x·V) [layer][token][slot][neuron].</summary>
    public required float[][][][] ExpertNeurons { get; init; }

    /// <summary>Per layer: each expert's share of the top-k assignments and neighbour agreement over this sequence.</summary>
    public required GrokLens.Analysis.RoutingStatistics[] Routing { get; init; }

    /// <summary>Residual stages: "embed", "layer 0" … (the residual after that layer).</summary>
    public required string[] Stages { get; init; }

    /// <summary>L2 norm of the residual stream [stage][token].</summary>
    public required float[][] ResidualNorm { get; init; }

    /// <summary>Logit lens top predictions [stage][token][rank].</summary>
    public required Prediction[][][] Lens { get; init; }

    /// <summary>The model's own top-10 next tokens [token][rank].</summary>
    public required Prediction[][] NextTokens { get; init; }

    public int Length => Tokens.Length;
    public string[] Labels => Tokens.Select(t => t.Label).ToArray();

    /// <summary>Whether the scores (before and after the cap) are there, not just the probabilities.</summary>
    public bool HasScores => ScoresRaw.Length > 0 && ScoresCapped.Length > 0;

    /// <summary>The mode actually drawn: the probabilities when the scores are missing.</summary>
    public AttentionMode Shown(AttentionMode mode) => HasScores ? mode : AttentionMode.Probabilities;

    public float[][] Attention(AttentionMode mode, int layer, int head) => (Shown(mode) switch
    {
        AttentionMode.Probabilities => Pattern,
        AttentionMode.RawScores => ScoresRaw,
        _ => ScoresCapped,
    })[layer][head];
}

/// <summary>Which attention quantity the heatmaps show.</summary>
public enum AttentionMode
{
    Probabilities,
    RawScores,
    CappedScores,
}
