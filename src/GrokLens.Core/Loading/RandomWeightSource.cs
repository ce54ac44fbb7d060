using System.Text;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading;

/// <summary>
/// Freshly initialised weights, reproducible from a seed and independent of creation order (each tensor's generator is
/// seeded from the seed and its name). RMSNorm scales start at 1; matrices are N(0, 1/fan_in); the embedding is
/// N(0, 1/D) so that embedding × √D (Grok's multiplier) starts near unit scale.
/// </summary>
public sealed class RandomWeightSource(long seed, Device? device = null, double scale = 1.0) : IWeightSource
{
    public Tensor Create(WeightId id, long[] shape)
    {
        var target = device ?? CPU;
        if (shape.Length == 1) return ones(shape, dtype: ScalarType.Float32, device: target);
        using var generator = new Generator((ulong)(seed ^ StableHash(id.ToString())));
        long fanIn = shape[^1];
        double std = scale / Math.Sqrt(fanIn);
        using var values = randn(shape, dtype: ScalarType.Float32, generator: generator);
        return (values * std).to(target);
    }

    /// <summary>FNV-1a, so seeds do not change between runs the way string.GetHashCode does.</summary>
    private static long StableHash(string text)
    {
        ulong hash = 14695981039346656037;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211;
        }
        return (long)(hash & 0x7FFFFFFFFFFFFFFF);
    }
}
