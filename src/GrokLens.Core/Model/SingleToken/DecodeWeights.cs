using GrokLens.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Model.SingleToken;

/// <summary>
/// Addresses of a resident float32 CPU model's weights, resolved once, for <see cref="SingleTokenDecoder"/>. A layer (or
/// the embedding, or the head) whose weights are elsewhere (int8, streamed, on a GPU, not float32, not contiguous, or not
/// loaded at all, as in a cluster shard holding other layers) is null, and a step that needs it takes the general path. The model's parameters are updated in place (training, loading), so the addresses stay valid
/// for its lifetime; the model keeps the tensors alive.
/// </summary>
internal sealed unsafe class DecodeWeights
{
    public float* Embedding;
    public float* OutputHead;
    public float* FinalNorm;
    public required LayerWeights?[] Layers;

    /// <summary>Whether layers first … first+count−1 (and the embedding, the final norm and head when asked) are here.</summary>
    public bool Covers(int first, int count, bool embedding, bool head)
    {
        if (first < 0 || count < 1 || first + count > Layers.Length) return false;
        for (int layer = first; layer < first + count; layer++)
            if (Layers[layer] is null) return false;
        return (!embedding || Embedding != null) && (!head || (OutputHead != null && FinalNorm != null));
    }

    internal sealed class LayerWeights
    {
        public float* PreAttentionNorm, PostAttentionNorm, PreMoeNorm, PostMoeNorm;
        public float* Query, Key, Value, AttentionOutput;
        public float* Router;
        public float* ExpertGate, ExpertUp, ExpertDown; // [E, F, D], [E, F, D], [E, D, F]
        public float* DenseGate, DenseUp, DenseDown;    // Grok-2's dense MLP; null without one
    }

    public static DecodeWeights? TryResolve(GrokModel model)
    {
        if (model.MatrixSource is not null) return null;
        var layers = new LayerWeights?[model.layers.Count];
        for (int index = 0; index < layers.Length; index++)
        {
            var layer = model.layers[index];
            if (layer.matrices is not { } m) continue;
            var resolved = new LayerWeights
            {
                PreAttentionNorm = Address(layer.preAttentionNorm.weight), PostAttentionNorm = Address(layer.postAttentionNorm.weight),
                PreMoeNorm = Address(layer.preMoeNorm.weight), PostMoeNorm = Address(layer.postMoeNorm.weight),
                Query = Address(m.query), Key = Address(m.key), Value = Address(m.value), AttentionOutput = Address(m.attentionOutput),
                Router = Address(layer.moe.routerWeight),
                ExpertGate = Address(m.expertGate), ExpertUp = Address(m.expertUp), ExpertDown = Address(m.expertDown),
                DenseGate = Address(m.denseGate), DenseUp = Address(m.denseUp), DenseDown = Address(m.denseDown),
            };
            if (resolved.Query == null || resolved.Key == null || resolved.Value == null || resolved.AttentionOutput == null
                || resolved.ExpertGate == null || resolved.ExpertUp == null || resolved.ExpertDown == null || resolved.Router == null
                || resolved.PreAttentionNorm == null || resolved.PostAttentionNorm == null || resolved.PreMoeNorm == null
                || resolved.PostMoeNorm == null || (m.denseGate is not null && (resolved.DenseGate == null || resolved.DenseUp == null || resolved.DenseDown == null)))
                continue;
            layers[index] = resolved;
        }
        return new DecodeWeights
        {
            Embedding = Address(model.embedding), OutputHead = Address(model.OutputHead), FinalNorm = Address(model.finalNorm.weight), Layers = layers,
        };
    }

    /// <summary>The tensor's float32 data, or null when it is absent, not a contiguous float32 CPU tensor.</summary>
    private static float* Address(Tensor? tensor) =>
        tensor is null || tensor.dtype != ScalarType.Float32 || tensor.device_type != DeviceType.CPU || !tensor.is_contiguous()
            || tensor.NumberOfElements == 0
            ? null
            : TensorMemory.Float32(tensor, "weight");
}
