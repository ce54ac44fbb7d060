using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>RMSNorm(v; g) = g ⊙ v · rsqrt(mean(v²) + eps), with the stored scale multiplied directly (SPEC §2.2).</summary>
public sealed class RmsNorm : nn.Module
{
    public readonly Parameter weight;
    private readonly double eps;

    public RmsNorm(WeightId id, long size, double eps, ParameterBuilder weights) : base(id.ToString())
    {
        this.eps = eps;
        weight = weights.Create(id, [size]);
        RegisterComponents();
    }

    /// <summary>In C# on float32 CPU tensors without gradients (<see cref="Kernels.RowRmsNorm"/>), in torch otherwise.</summary>
    public Tensor Forward(Tensor x)
    {
        if (Kernels.RowRmsNorm.TryApply(x, weight, eps) is { } normed) return normed;
        using var meanSquare = x.square().mean([-1], keepdim: true);
        using var inverseRms = (meanSquare + eps).rsqrt();
        return x * inverseRms * weight;
    }
}
