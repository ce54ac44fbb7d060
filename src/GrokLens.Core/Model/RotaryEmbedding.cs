using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>
/// Half-split ("NeoX") rotary embedding over all head dimensions (SPEC §2.4.2):
/// out[j] = x[j]·cos θ_j − x[j+d/2]·sin θ_j, out[j+d/2] = x[j+d/2]·cos θ_j + x[j]·sin θ_j, θ_j = p / base^(2j/d).
/// </summary>
public sealed class RotaryEmbedding(int headDim, double theta)
{
    private readonly float[] inverseFrequencies =
        Enumerable.Range(0, headDim / 2).Select(j => (float)(1.0 / Math.Pow(theta, 2.0 * j / headDim))).ToArray();

    /// <summary>cos and sin of the phases for positions offset … offset+count−1, each [count, d/2].</summary>
    public (Tensor Cos, Tensor Sin) Tables(int offset, int count, Device device)
    {
        using var inverseFrequency = tensor(inverseFrequencies, device: device);
        using var positions = arange(offset, offset + count, dtype: ScalarType.Float32, device: device);
        using var phases = outer(positions, inverseFrequency);
        return (phases.cos(), phases.sin());
    }

    /// <summary>Rotates x [B, T, heads, d] by tables from <see cref="Tables"/>.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        if (Kernels.RowRotary.TryApply(x, cos, sin) is { } rotated) return rotated;
        long half = x.shape[^1] / 2;
        using var c = cos.unsqueeze(1);
        using var s = sin.unsqueeze(1);
        using var first = x.narrow(-1, 0, half);
        using var second = x.narrow(-1, half, half);
        using var rotatedFirst = first * c - second * s;
        using var rotatedSecond = second * c + first * s;
        return cat([rotatedFirst, rotatedSecond], -1);
    }
}
