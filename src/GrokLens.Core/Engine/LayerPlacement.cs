namespace GrokLens.Engine;

/// <summary>Where a range of layers runs: "this process" or a cluster shard on a host.</summary>
/// <param name="FirstLayer">First layer of the range.</param>
/// <param name="LastLayer">Last layer of the range (inclusive).</param>
/// <param name="Location">"local (cpu)", or the host and silo of a shard.</param>
/// <param name="Detail">Device map, weight residency, memory: one line for the model panel.</param>
public sealed record LayerPlacement(int FirstLayer, int LastLayer, string Location, string Detail)
{
    public string Layers => FirstLayer == LastLayer ? $"{FirstLayer}" : $"{FirstLayer}-{LastLayer}";
}
