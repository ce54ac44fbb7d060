using System.Text.Json;
using System.Text.Json.Nodes;
using GrokLens.Interventions;

namespace GrokLens.Web.Compare;

/// <summary>
/// An experiment's entries as saved: each draft as the user typed it — its kind, on/off switch and text fields (a
/// steering vector as its two prompts, hook and coefficient, so it comes back editable and is built again on whichever
/// model runs it) — so a switched-off or invalid entry saves as well as a valid one. Entries in the
/// <see cref="InterventionJson"/> schema (<c>"type"</c> instead of <c>"kind"</c>: older experiment files, hand-written
/// ones) are read too.
/// </summary>
public static class DraftJson
{
    private static readonly JsonNamingPolicy Names = JsonNamingPolicy.SnakeCaseLower;

    public static JsonObject Write(InterventionDraft draft)
    {
        var entry = new JsonObject { ["kind"] = Names.ConvertName(draft.Kind.ToString()), ["enabled"] = draft.Enabled };
        foreach (var field in InterventionDraft.FieldsOf(draft.Kind)) entry[field] = draft[field];
        switch (draft.Kind)
        {
            case InterventionKind.AblateHeads: entry["mode"] = Names.ConvertName(draft.Mode.ToString()); break;
            case InterventionKind.PatchRouting: entry["part"] = Names.ConvertName(draft.Part.ToString()); break;
            case InterventionKind.Steering or InterventionKind.RouterBias: entry["coefficient"] = draft.Coefficient; break;
            case InterventionKind.Loaded when draft.Fixed is { } fixedOne:
                entry["intervention"] = JsonNode.Parse(InterventionJson.Serialize([fixedOne]))![0]!.DeepClone();
                break;
        }
        return entry;
    }

    /// <summary>Reads one entry; an <see cref="InterventionException"/> says what is wrong with it.</summary>
    public static InterventionDraft Read(JsonNode? node, int index)
    {
        if (node is not JsonObject entry) throw new InterventionException($"intervention #{index + 1} is not a JSON object.");
        if (entry["type"] is not null)
            return InterventionDraft.From(InterventionJson.Deserialize(new JsonArray(entry.DeepClone()).ToJsonString())[0]);
        var kindText = Text(entry, "kind", index) ?? throw new InterventionException($"intervention #{index + 1} has no \"kind\".");
        var kind = Enum.GetValues<InterventionKind>().Cast<InterventionKind?>().FirstOrDefault(k => Names.ConvertName(k.ToString()!) == kindText)
                   ?? throw new InterventionException($"intervention #{index + 1} has the unknown kind '{kindText}'; kinds: " +
                                                      string.Join(", ", Enum.GetValues<InterventionKind>().Select(k => Names.ConvertName(k.ToString()))) + ".");
        var draft = kind == InterventionKind.Loaded && entry["intervention"] is JsonNode fixedOne
            ? Read(fixedOne, index)
            : new InterventionDraft(kind);
        foreach (var field in InterventionDraft.FieldsOf(kind))
            if (Text(entry, field, index) is { } value) draft[field] = value;
        if (entry["enabled"] is JsonValue enabled) draft.Enabled = enabled.TryGetValue<bool>(out var on) ? on
            : throw new InterventionException($"intervention #{index + 1}: \"enabled\" is true or false.");
        if (kind == InterventionKind.AblateHeads && Text(entry, "mode", index) is { } mode) draft.Mode = Choice<AblationMode>(mode, "mode", index);
        if (kind == InterventionKind.PatchRouting && Text(entry, "part", index) is { } part) draft.Part = Choice<RoutingPart>(part, "part", index);
        if (kind is InterventionKind.Steering or InterventionKind.RouterBias && entry["coefficient"] is JsonValue coefficient)
            draft.Coefficient = coefficient.TryGetValue<double>(out var c) ? c
                : throw new InterventionException($"intervention #{index + 1}: \"coefficient\" is a number.");
        return draft;
    }

    private static string? Text(JsonObject entry, string field, int index) => entry[field] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => throw new InterventionException($"intervention #{index + 1}: \"{field}\" is text."),
    };

    private static T Choice<T>(string text, string field, int index) where T : struct, Enum =>
        Enum.GetValues<T>().Cast<T?>().FirstOrDefault(v => Names.ConvertName(v.ToString()!) == text)
        ?? throw new InterventionException($"intervention #{index + 1}: \"{field}\" is one of " +
                                           string.Join(", ", Enum.GetValues<T>().Select(v => Names.ConvertName(v.ToString()))) + $", not '{text}'.");
}
