using System.Globalization;
using System.Text.Json;

namespace GrokLens.Dumps;

/// <summary>One prompt of a batch: text or token ids, and a stable id (given, or "line{N}" from its line number).</summary>
public sealed record BatchPrompt(string Id, string? Prompt, IReadOnlyList<int>? TokenIds);

/// <summary>Reads a JSONL prompt file: one object per line, {"prompt": "..."} or {"token_ids": [...]}, optional "id".</summary>
public static class BatchPrompts
{
    public static IReadOnlyList<BatchPrompt> ReadJsonl(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Prompt file not found: {path}", path);
        var prompts = new List<BatchPrompt>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var prompt = Parse(line, $"{path}:{lineNumber}", $"line{lineNumber}");
            if (!ids.Add(prompt.Id)) throw new FormatException($"{path}:{lineNumber}: id '{prompt.Id}' is used twice; ids must be unique.");
            prompts.Add(prompt);
        }
        if (prompts.Count == 0) throw new FormatException($"{path} holds no prompts.");
        return prompts;
    }

    private static BatchPrompt Parse(string line, string where, string defaultId)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(line);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new FormatException($"{where}: not a JSON object ({e.Message}).");
        }
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException($"{where}: each line must be a JSON object.");

        string id = defaultId;
        if (root.TryGetProperty("id", out var idElement))
        {
            id = idElement.ValueKind switch
            {
                JsonValueKind.String => idElement.GetString()!,
                JsonValueKind.Number => idElement.GetRawText(),
                _ => throw new FormatException($"{where}: \"id\" must be a string or a number."),
            };
            if (!DumpFormat.IsValidRunId(id))
                throw new FormatException($"{where}: id '{id}' is not valid: use 1–64 letters, digits, '_', '-' or '.'.");
        }

        bool hasText = root.TryGetProperty("prompt", out var text);
        bool hasIds = root.TryGetProperty("token_ids", out var tokens);
        if (hasText == hasIds) throw new FormatException($"{where}: give exactly one of \"prompt\" and \"token_ids\".");
        if (hasText)
        {
            if (text.ValueKind != JsonValueKind.String || text.GetString()!.Length == 0)
                throw new FormatException($"{where}: \"prompt\" must be a non-empty string.");
            return new BatchPrompt(id, text.GetString(), null);
        }
        if (tokens.ValueKind != JsonValueKind.Array) throw new FormatException($"{where}: \"token_ids\" must be an array of integers.");
        var list = new List<int>();
        foreach (var item in tokens.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var value))
                throw new FormatException($"{where}: \"token_ids\" holds {item.GetRawText()}, not an integer.");
            list.Add(value);
        }
        return new BatchPrompt(id, null, list);
    }

    internal static string Describe(BatchPrompt prompt) =>
        prompt.Prompt ?? string.Join(",", prompt.TokenIds!.Select(i => i.ToString(CultureInfo.InvariantCulture)));
}
