using GrokLens.Model;

namespace GrokLens.Training;

/// <summary>
/// The suggested size of the embedded default model "grok-tiny": Grok-1's architecture (8 experts, top-2, grouped-query
/// attention 8 query / 2 key-value heads, soft-capped attention, tied embeddings) at d = 256, 4 layers, head_dim 32,
/// expert size 256. Multipliers set the Grok way for these sizes: embedding × √d, attention × 1/√head_dim; output
/// multiplier and soft-cap as Grok-1. With grok-tiny 2's 8,000-piece vocabulary: 9.0 M parameters (4.3 M active per
/// token), 18.0 MB in BF16.
/// </summary>
public static class GrokTinyConfig
{
    public const int HiddenSize = 256;
    public const int Layers = 4;
    public const int HeadDim = 32;

    public static GrokConfig Create(int vocabSize, int maxPositions = 512) => new GrokConfig
    {
        ModelType = "grok-1",
        VocabSize = vocabSize,
        HiddenSize = HiddenSize,
        NumLayers = Layers,
        NumHeads = HiddenSize / HeadDim,
        NumKvHeads = 2,
        HeadDim = HeadDim,
        NumExperts = 8,
        TopK = 2,
        ExpertSize = 256,
        MaxPositions = maxPositions,
        EmbeddingMultiplier = Math.Sqrt(HiddenSize),
        AttnOutputMultiplier = 1 / Math.Sqrt(HeadDim),
        PadTokenId = 0,
    }.Validated();
}
