using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrokLens.Interventions;

/// <summary>Saves and loads intervention lists as JSON (schema: docs/interventions.md).</summary>
public static class InterventionJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        RespectNullableAnnotations = true,
        AllowOutOfOrderMetadataProperties = true,
    };

    public static string Serialize(IEnumerable<Intervention> interventions) =>
        JsonSerializer.Serialize(interventions.ToList(), Options);

    public static IReadOnlyList<Intervention> Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<List<Intervention>>(json, Options)
                   ?? throw new InterventionException("the interventions file holds null instead of a list.");
        }
        catch (JsonException e)
        {
            throw new InterventionException($"invalid interventions JSON: {e.Message}");
        }
        catch (NotSupportedException e)
        {
            throw new InterventionException($"invalid interventions JSON (is every entry's \"type\" known?): {e.Message}");
        }
    }

    public static IReadOnlyList<Intervention> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Interventions file not found: {path}", path);
        try
        {
            return Deserialize(File.ReadAllText(path));
        }
        catch (InterventionException e)
        {
            throw new InterventionException($"{path}: {e.Message}");
        }
    }
}
