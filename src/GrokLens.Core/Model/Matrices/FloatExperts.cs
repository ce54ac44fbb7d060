using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Model;

/// <summary>Expert matrices held as one float32 tensor [E, out, in].</summary>
public sealed class FloatExperts(Tensor stacked) : IExpertMatrices
{
    public int Count => (int)stacked.shape[0];
    public long Rows => stacked.shape[1];
    public long Columns => stacked.shape[2];

    public Tensor Multiply(int expert, Tensor rows)
    {
        using var weight = stacked[expert];
        // The C# product where it applies: the same sums as the fused prefill's (Kernels.ExpertPrefill), so capturing
        // the experts' activations changes no number.
        return Kernels.FloatGemm.TryLinear(rows, weight) ?? linear(rows, weight);
    }

    public Tensor ToFloat32(int expert) => stacked[expert];

    /// <summary>True when the weights are a contiguous float32 CPU tensor, which the C# prefill kernels read in place.</summary>
    internal bool InCpuMemory => stacked.dtype == ScalarType.Float32 && stacked.device_type == DeviceType.CPU && stacked.is_contiguous();

    /// <summary>The weights' memory (only when <see cref="InCpuMemory"/>); valid while this object lives.</summary>
    internal unsafe float* Memory() => GrokLens.Kernels.TensorMemory.Float32(stacked, "expert weights");
}
