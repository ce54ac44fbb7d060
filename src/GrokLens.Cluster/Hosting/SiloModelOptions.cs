using GrokLens.Model;

namespace GrokLens.Cluster.Hosting;

/// <summary>A model a silo loads and offers: where it is on disk, its cluster name, the layers and how to hold them.</summary>
public sealed record SiloModelOptions
{
    public required string Path { get; init; }

    /// <summary>Name clients ask for; defaults to the folder's name.</summary>
    public string? Name { get; init; }

    /// <summary>Layers to hold; null: all.</summary>
    public LayerRange? Layers { get; init; }

    public bool Int8 { get; init; }
    public bool Stream { get; init; }
    public string? DeviceMap { get; init; }
}
