namespace GrokLens.Model;

/// <summary>
/// Makes a layer's weights present only while the layer runs: weight-only int8 (dequantised per layer) and layer
/// streaming (read from the checkpoint per layer). The model calls <see cref="Acquire"/> around each layer.
/// </summary>
public interface ILayerWeights : IDisposable
{
    /// <summary>Fills layer <paramref name="layer"/>'s parameters; disposing the result releases them again.</summary>
    IDisposable Acquire(int layer);

    /// <summary>"int8 (dequantised per layer)", "streamed from disk", … for the model panel.</summary>
    string Description { get; }
}
