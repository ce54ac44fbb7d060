namespace GrokLens.Loading.Placement;

/// <summary>How decoder-layer weights are held in memory.</summary>
public enum WeightResidency
{
    /// <summary>All weights float32 on their devices (the default).</summary>
    Resident,

    /// <summary>Matrices the checkpoint stores as int8 stay int8 with their scales; each layer is dequantised when it runs.</summary>
    Int8,

    /// <summary>Nothing of the layers is held: each layer is read from the checkpoint when it runs, the next one prefetched.</summary>
    Streamed,
}
