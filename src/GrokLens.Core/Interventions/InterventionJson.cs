using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace GrokLens.Interventions;

/// <summary>
/// Saves and loads intervention lists as JSON (schema: docs/interventions.md). Reading checks each entry against its
/// type before converting it, so an error names the entry, its field and what the field must hold, and lists the valid
/// types or fields, in the words of the JSON, never .NET's type names.
/// </summary>
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

    private const string TypeField = "type";

    /// <summary>Largest interventions file read (steering vectors of Grok-1 take about 100 KB each).</summary>
    public const long MaxFileBytes = 16L << 20;

    /// <summary>The JSON "type" of each intervention record, from the [JsonDerivedType] list on <see cref="Intervention"/>.</summary>
    private static readonly Dictionary<string, Type> Types = typeof(Intervention).GetCustomAttributes<JsonDerivedTypeAttribute>()
        .ToDictionary(a => (string)a.TypeDiscriminator!, a => a.DerivedType, StringComparer.Ordinal);

    /// <summary>The valid "type" values, for messages.</summary>
    public static string TypeList => string.Join(", ", Types.Keys);

    public static string Serialize(IEnumerable<Intervention> interventions) =>
        JsonSerializer.Serialize(interventions.ToList(), Options);

    public static IReadOnlyList<Intervention> Deserialize(string json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new InterventionException($"the interventions are not valid JSON ({Where(e)}).");
        }
        if (root is not JsonArray list)
            throw new InterventionException($"the interventions must be a JSON list [ … ] of objects, each with a \"type\" ({TypeList}).");
        return list.Select((entry, i) => Read(entry, i + 1)).ToList();
    }

    public static IReadOnlyList<Intervention> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Interventions file not found: {path}", path);
        try
        {
            return Deserialize(Files.BoundedFile.ReadAllText(path, MaxFileBytes, "interventions file"));
        }
        catch (InterventionException e)
        {
            throw new InterventionException($"{path}: {e.Message}");
        }
    }

    /// <summary>One entry, checked field by field against its type's record before it is converted.</summary>
    private static Intervention Read(JsonNode? entry, int number)
    {
        if (entry is not JsonObject fields)
            throw new InterventionException($"intervention {number} must be a JSON object with a \"type\" ({TypeList}).");
        var typeName = fields[TypeField] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        if (typeName is null)
            throw new InterventionException($"intervention {number} has no \"type\" string; the types are: {TypeList}.");
        if (!Types.TryGetValue(typeName, out var type))
            throw new InterventionException($"intervention {number} has \"type\": \"{typeName}\", which is not an intervention type" +
                                            $"{Suggestion(typeName, Types.Keys)}; the types are: {TypeList}.");
        var known = Fields(type);
        string what = $"intervention {number} ({typeName})";
        string FieldList() => string.Join(", ", known.Select(f => f.Optional ? f.Name + "?" : f.Name));
        foreach (var (name, _) in fields)
            if (name != TypeField && known.All(f => f.Name != name))
                throw new InterventionException($"{what} has no field \"{name}\"{Suggestion(name, known.Select(f => f.Name))}; its fields are: {FieldList()}.");
        foreach (var field in known.Where(f => !f.Optional))
            if (fields[field.Name] is null)
                throw new InterventionException($"{what} needs \"{field.Name}\" ({field.Expected}); its fields are: {FieldList()}.");
        try
        {
            return (Intervention)fields.Deserialize(type, Options)!;
        }
        catch (JsonException e)
        {
            var name = FieldOf(e.Path);
            var field = known.FirstOrDefault(f => f.Name == name);
            throw new InterventionException(field is null
                ? $"{what} could not be read ({Where(e)}); its fields are: {FieldList()}."
                : $"{what}: \"{field.Name}\" must be {field.Expected}{(field.Optional ? " (or left out)" : "")}.");
        }
    }

    private sealed record Field(string Name, string Expected, bool Optional);

    /// <summary>A record's JSON fields: its constructor parameters (snake_case) and "enabled".</summary>
    private static List<Field> Fields(Type type)
    {
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var nullability = new NullabilityInfoContext();
        var fields = constructor.GetParameters().Select(p => new Field(
            JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name!),
            Describe(p.ParameterType),
            p.HasDefaultValue || nullability.Create(p).ReadState == NullabilityState.Nullable)).ToList();
        fields.Add(new Field("enabled", Describe(typeof(bool)), Optional: true));
        return fields;
    }

    /// <summary>What a field holds, in JSON's words.</summary>
    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(int) || type == typeof(long)) return "an integer";
        if (type == typeof(float) || type == typeof(double)) return "a number";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(string)) return "a string";
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type).Select(n => $"\"{n}\""));
        var element = type.IsArray ? type.GetElementType()
            : type.IsGenericType && type.GetGenericArguments() is [var only] ? only : null;
        if (element is not null)
            return Describe(element) switch
            {
                "an integer" => "a list of integers",
                "a number" => "a list of numbers",
                var other => $"a list, each {other}",
            };
        return "a JSON value of the documented form";
    }

    /// <summary>The top-level field of a path such as "$.layers[0]" or "$['hook']".</summary>
    private static string? FieldOf(string? path)
    {
        if (path is null || path.Length < 3) return null;
        var rest = path.StartsWith("$['", StringComparison.Ordinal) ? path[3..path.IndexOf('\'', 3)] : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        return rest?.Split('.', '[')[0];
    }

    /// <summary>Line and position of a JSON syntax error, without .NET's type names.</summary>
    private static string Where(JsonException e) =>
        e.LineNumber is { } line ? $"line {line + 1}, position {(e.BytePositionInLine ?? 0) + 1}" : "malformed";

    /// <summary>" (did you mean "x"?)" for a near miss, else nothing.</summary>
    private static string Suggestion(string given, IEnumerable<string> valid) =>
        Hooks.HookPatterns.ClosestNames(given, valid.ToList(), 1) is [var close] ? $" (did you mean \"{close}\"?)" : "";
}
