using System.Text.Json;
using GrokLens.Analysis;
using GrokLens.Dumps;

namespace GrokLens.Cluster.Contracts;

/// <summary>Converts reductions of one run between <see cref="ReductionPart"/> and the wire.</summary>
public static class ReductionWire
{
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static ReductionData ToData(ReductionPart part) => new()
    {
        Tokens = part.Tokens,
        Layers = part.ExpertCounts.Keys.ToArray(),
        ExpertCounts = part.ExpertCounts.Values.Select(TensorData.From).ToArray(),
        RoutingJson = part.ExpertCounts.Keys.Select(layer =>
            part.Routing.GetValueOrDefault(layer) is { } routing ? JsonSerializer.Serialize(routing, Json) : null).ToArray(),
        Hooks = part.Neurons.Keys.ToArray(),
        Sums = part.Neurons.Values.Select(n => TensorData.From(n.Sum)).ToArray(),
        Counts = part.Neurons.Values.Select(n => TensorData.From(n.Count)).ToArray(),
        Maxima = part.Neurons.Values.Select(n => TensorData.From(n.Max)).ToArray(),
    };

    public static ReductionPart ToPart(ReductionData data)
    {
        var part = new ReductionPart(data.Tokens);
        for (int i = 0; i < data.Layers.Length; i++)
        {
            part.ExpertCounts.Add(data.Layers[i], data.ExpertCounts[i].ToTensor());
            part.Routing.Add(data.Layers[i], data.RoutingJson[i] is { } json ? JsonSerializer.Deserialize<RoutingStatistics>(json, Json) : null);
        }
        for (int i = 0; i < data.Hooks.Length; i++)
            part.Neurons.Add(data.Hooks[i], (data.Sums[i].ToTensor(), data.Counts[i].ToTensor(), data.Maxima[i].ToTensor()));
        return part;
    }
}
