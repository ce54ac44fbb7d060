using GrokLens.Kernels;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Model;

/// <summary>
/// The GELU of the experts and Grok-2's dense MLP: the tanh approximation, jax.nn.gelu's default in xAI's code
/// (SPEC §2.5). The grok2-mini reference uses it too: it agrees to 1e-6, and the erf form (SGLang's, for Grok-2's dense
/// MLP) misses its logits by 1.8e-4. Converted configs' hidden_act ("silu", "gelu") is not followed (SPEC §7 row 3).
/// </summary>
public static class Gelu
{
    public static Tensor Tanh(Tensor x) => gelu(x, TorchSharp.Modules.GELU.Approximate.tanh);

    /// <summary>
    /// gelu(gate) ⊙ up for the experts. On float32 CPU tensors without gradients it is computed in C#
    /// (<see cref="VectorGelu"/>), exactly as the experts' C# prefill computes it, so a run that captures the experts'
    /// activations gives the same numbers as one that does not; torch's gelu elsewhere.
    /// </summary>
    public static unsafe Tensor TanhTimes(Tensor gate, Tensor up)
    {
        if (is_grad_enabled() || gate.dtype != ScalarType.Float32 || up.dtype != ScalarType.Float32 || gate.device_type != DeviceType.CPU
            || up.device_type != DeviceType.CPU || !gate.shape.SequenceEqual(up.shape) || gate.NumberOfElements == 0)
            return Tanh(gate) * up;
        using var gateRows = gate.contiguous();
        var result = gateRows.clone();
        using var upRows = up.contiguous();
        VectorGelu.GeluTimes(TensorMemory.Float32(result, nameof(gate)), TensorMemory.Float32(upRows, nameof(up)), result.NumberOfElements, KernelPaths.Best);
        GC.KeepAlive(upRows);
        return result;
    }
}
