using System.Text.Json;
using GrokLens.Model;

namespace GrokLens.Cluster.Contracts;

/// <summary>One model a silo can host: its name in the cluster and the layers this silo holds of it.</summary>
public sealed record HostedModelDeclaration(string Name, int FirstLayer, int LastLayer, int NumLayers, long Bytes)
{
    public LayerRange Layers => new(FirstLayer, LastLayer);
}

/// <summary>
/// What a silo declares it can host, published as silo metadata (key <see cref="MetadataKey"/>, JSON) so that placement
/// and clients see it: the host name, the memory it offers and the models (layer ranges) it has loaded.
/// </summary>
public sealed record SiloDeclaration(string Host, long MemoryBytes, IReadOnlyList<HostedModelDeclaration> Models)
{
    public const string MetadataKey = "groklens";

    public string ToJson() => JsonSerializer.Serialize(this);

    public static SiloDeclaration? FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            return JsonSerializer.Deserialize<SiloDeclaration>(json);
        }
        catch (JsonException)
        {
            return null; // A silo of another program or version: it hosts nothing of ours.
        }
    }

    /// <summary>True when this silo holds every layer of <paramref name="key"/>'s range of its model.</summary>
    public bool Hosts(string model, LayerRange layers) =>
        Models.Any(m => m.Name == model && m.FirstLayer <= layers.First && m.LastLayer >= layers.Last);
}
