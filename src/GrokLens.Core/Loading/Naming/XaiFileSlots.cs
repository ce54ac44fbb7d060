using GrokLens.Checkpoints.Xai;
using GrokLens.Model;
using K = GrokLens.Model.WeightKind;

namespace GrokLens.Loading.Naming;

/// <summary>
/// Where each weight lies in xAI's raw release (SPEC §4.2, §3.2): file 0 the embedding, file 1 the final norm, then 12
/// files per layer in the Haiku order of the layer's parameters, layers in the string order of their indices.
/// </summary>
public static class XaiFileSlots
{
    /// <summary>Offsets inside a layer's block of 12 files (Haiku sorts a layer's module paths as strings).</summary>
    private static readonly Dictionary<K, int> LayerSlots = new()
    {
        [K.ExpertGate] = 0,
        [K.ExpertDown] = 1,
        [K.ExpertUp] = 2,
        [K.Key] = 3,
        [K.AttentionOutput] = 4,
        [K.Query] = 5,
        [K.Value] = 6,
        [K.PreAttentionNorm] = 7,
        [K.PostAttentionNorm] = 8,
        [K.PreMoeNorm] = 9,
        [K.PostMoeNorm] = 10,
        [K.Router] = 11,
    };

    /// <summary>The file of a weight and whether it is a JAX [in, out] matrix to transpose; null if the release has no such weight.</summary>
    public static (int Index, bool Transposed)? Locate(WeightId id, int numLayers) => id.Kind switch
    {
        K.Embedding => (0, false),
        K.FinalNorm => (1, false),
        _ when id.IsLayerWeight && LayerSlots.TryGetValue(id.Kind, out int slot) =>
            (XaiCheckpoint.LayerBlockStart(id.Layer, numLayers) + slot, id.IsMatrix || id.Kind == K.Router),
        _ => null,
    };
}
