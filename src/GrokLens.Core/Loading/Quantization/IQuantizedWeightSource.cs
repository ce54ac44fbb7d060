using GrokLens.Checkpoints;

namespace GrokLens.Loading.Quantization;

/// <summary>A weight source whose checkpoint stores some matrices as int8 with scales.</summary>
public interface IQuantizedWeightSource
{
    /// <summary>The stored int8 weight of a canonical parameter, or null when it is not stored quantised.</summary>
    QuantizedWeight? TryCreateQuantized(string name, long[] shape);
}
