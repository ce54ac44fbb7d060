using GrokLens.Checkpoints;
using GrokLens.Model;

namespace GrokLens.Loading.Quantization;

/// <summary>A weight source whose checkpoint stores some matrices as int8 with scales.</summary>
public interface IQuantizedWeightSource
{
    /// <summary>The stored int8 weight of a weight, or null when it is not stored quantised.</summary>
    QuantizedWeight? TryCreateQuantized(WeightId id, long[] shape);
}
