namespace GrokLens.Model;

/// <summary>
/// Supplies decoder layers' projection matrices from outside the model's parameters: int8 weights kept int8, or layers
/// streamed from disk. The model asks for a layer's matrices when the layer runs and releases them when it ends.
/// </summary>
public interface ILayerMatrixSource : IDisposable
{
    /// <summary>Layer <paramref name="layer"/>'s matrices, on the layer's device; disposing the result releases them.</summary>
    LayerMatrices Acquire(int layer);

    /// <summary>"int8 weights (…)", "streamed from disk …": for the model panel.</summary>
    string Description { get; }

    /// <summary>Bytes of matrices this source holds per device ("cpu", "cuda:0"); a streamed layer in flight is not counted.</summary>
    IReadOnlyDictionary<string, long> BytesByDevice { get; }
}
