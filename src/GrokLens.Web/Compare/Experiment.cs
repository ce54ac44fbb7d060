using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrokLens.Interventions;

namespace GrokLens.Web.Compare;

/// <summary>
/// A Compare-page experiment as saved: the prompts, the target tokens and the editor's entries as typed
/// (<see cref="DraftJson"/>: switched-off and invalid ones included, steering vectors as their prompts). Saving never
/// needs the model, so it cannot fail on an entry the model would refuse.
/// </summary>
public sealed record Experiment(string Prompt, string? SourcePrompt, string? Target, string? OtherTarget, IReadOnlyList<InterventionDraft> Drafts)
{
    /// <summary>An experiment of copies of the editor's drafts (later edits do not change it).</summary>
    public static Experiment Of(string prompt, string? sourcePrompt, string? target, string? otherTarget, IEnumerable<InterventionDraft> drafts) =>
        new(prompt, sourcePrompt, target, otherTarget, [.. drafts.Select(d => d.Clone())]);

    public string ToJson()
    {
        var root = new JsonObject
        {
            ["prompt"] = Prompt,
            ["source_prompt"] = SourcePrompt,
            ["target"] = Target,
            ["other_target"] = OtherTarget,
            ["interventions"] = new JsonArray([.. Drafts.Select(DraftJson.Write)]),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads an experiment, with an <see cref="InterventionException"/> naming what is wrong.</summary>
    public static Experiment FromJson(string json)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonObject
                   ?? throw new InterventionException("an experiment file holds a JSON object with \"prompt\" and \"interventions\".");
        }
        catch (JsonException e)
        {
            throw new InterventionException($"the experiment is not valid JSON (line {(e.LineNumber ?? 0) + 1}, position {(e.BytePositionInLine ?? 0) + 1}).");
        }
        string? Text(string name) => root[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        var drafts = root["interventions"] is JsonArray list
            ? list.Select(DraftJson.Read).ToList()
            : throw new InterventionException("the experiment has no \"interventions\" list.");
        return new Experiment(Text("prompt") ?? throw new InterventionException("the experiment has no \"prompt\"."),
            Text("source_prompt"), Text("target"), Text("other_target"), drafts);
    }

    /// <summary>The experiment gzip-compressed and base64url-encoded, for the page's query string.</summary>
    public string ToUrlToken()
    {
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.SmallestSize))
            zip.Write(Encoding.UTF8.GetBytes(ToJson()));
        return Convert.ToBase64String(buffer.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static Experiment FromUrlToken(string token)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 += new string('=', (4 - base64.Length % 4) % 4);
            using var zip = new GZipStream(new MemoryStream(Convert.FromBase64String(base64)), CompressionMode.Decompress);
            using var reader = new StreamReader(zip, Encoding.UTF8);
            return FromJson(reader.ReadToEnd());
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            throw new InterventionException($"the experiment in the address is damaged: {e.Message}");
        }
    }
}
