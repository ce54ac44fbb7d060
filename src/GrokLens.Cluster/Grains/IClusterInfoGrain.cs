using GrokLens.Cluster.Contracts;

namespace GrokLens.Cluster.Grains;

/// <summary>Answers from any silo: the active silos and what each declared it can host.</summary>
[Alias("GrokLens.Cluster.IClusterInfoGrain")]
public interface IClusterInfoGrain : IGrainWithIntegerKey
{
    [Alias("Silos")]
    Task<SiloInfo[]> Silos();
}
