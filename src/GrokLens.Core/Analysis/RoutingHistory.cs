using System.Text.Json;
using System.Text.Json.Nodes;

namespace GrokLens.Analysis;

/// <summary>
/// The router's top-k choices (every layer, every token) on a fixed set of evaluation windows, recorded at several
/// steps of a training run: what "router saturation" (OLMoE: the share of choices at a checkpoint that match the final
/// model) needs, without the weights. A folder with <c>index.json</c> (format, sizes, the evaluation token ids and the
/// recorded steps) and one <c>step-NNNNNN.bin</c> per step: L × N × k bytes, the expert index (0…E−1) of layer l,
/// evaluation token n (windows concatenated in order) and rank r (0 = highest router probability) at offset
/// (l·N + n)·k + r. See docs/training.md.
/// </summary>
public sealed class RoutingHistory
{
    public const string IndexFileName = "index.json";
    public const string Format = "groklens-routing-history";
    public const int FormatVersion = 1;

    private readonly List<RoutingHistoryStep> steps;

    private RoutingHistory(string folder, int layers, int experts, int topK, IReadOnlyList<int[]> windows,
        List<RoutingHistoryStep> steps, JsonObject? description)
    {
        Folder = folder;
        Layers = layers;
        Experts = experts;
        TopK = topK;
        Windows = windows;
        TokenCount = windows.Sum(w => w.Length);
        this.steps = steps;
        Description = description;
    }

    public string Folder { get; }
    public int Layers { get; }
    public int Experts { get; }
    public int TopK { get; }

    /// <summary>The evaluation windows (model token ids), each run as one sequence from position 0.</summary>
    public IReadOnlyList<int[]> Windows { get; }

    /// <summary>Evaluation tokens in all windows (N).</summary>
    public int TokenCount { get; }

    /// <summary>Recorded steps in ascending order, with the tokens trained on before each.</summary>
    public IReadOnlyList<RoutingHistoryStep> Steps => steps;

    /// <summary>Free-form facts about the run and the evaluation set (books, window placement), as written.</summary>
    public JsonObject? Description { get; }

    /// <summary>
    /// Starts a history folder (no steps yet), or opens the existing one if it has the same windows and sizes (its
    /// description replaced by <paramref name="description"/> when given).
    /// </summary>
    public static RoutingHistory CreateOrOpen(string folder, int layers, int experts, int topK, IReadOnlyList<int[]> windows,
        JsonObject? description = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(topK);
        if (experts is <= 0 or > 256) throw new ArgumentOutOfRangeException(nameof(experts), experts, "Expert indices are stored as bytes: 1…256 experts.");
        if (windows.Count == 0 || windows.Any(w => w.Length == 0)) throw new ArgumentException("Give at least one non-empty window.", nameof(windows));
        if (File.Exists(Path.Combine(folder, IndexFileName)))
        {
            var existing = Load(folder);
            if (existing.Layers != layers || existing.Experts != experts || existing.TopK != topK ||
                existing.Windows.Count != windows.Count || !existing.Windows.Zip(windows).All(p => p.First.AsSpan().SequenceEqual(p.Second)))
                throw new InvalidDataException($"'{folder}' holds a routing history of other sizes or evaluation tokens; use a new folder.");
            if (description is null) return existing;
            // The plan may have changed (e.g. a run resumed with fewer steps): keep the latest description.
            var updated = new RoutingHistory(folder, layers, experts, topK, existing.Windows, [.. existing.Steps], description.DeepClone().AsObject());
            updated.WriteIndex();
            return updated;
        }
        var history = new RoutingHistory(folder, layers, experts, topK, windows.Select(w => w.ToArray()).ToList(), [], description?.DeepClone().AsObject());
        history.WriteIndex();
        return history;
    }

    /// <summary>Reads <c>index.json</c> of a history folder (step files are read on demand by <see cref="Read"/>).</summary>
    /// <exception cref="InvalidDataException">The index is malformed or a listed step file is missing; the message says what.</exception>
    public static RoutingHistory Load(string folder)
    {
        string path = Path.Combine(folder, IndexFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"No routing history in '{folder}' ({IndexFileName} is missing).", path);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FormatException("the index must be a JSON object");
            if (root["format"]?.GetValue<string>() != Format) throw new FormatException($"\"format\" must be \"{Format}\"");
            int version = root["version"]?.GetValue<int>() ?? throw new FormatException("\"version\" is missing");
            if (version != FormatVersion) throw new FormatException($"version {version} is not supported (expected {FormatVersion})");
            int layers = Positive(root, "layers"), experts = Positive(root, "experts"), topK = Positive(root, "top_k");
            var windows = (root["windows"] as JsonArray ?? throw new FormatException("\"windows\" must be an array of token id arrays"))
                .Select((w, i) => (w as JsonArray ?? throw new FormatException($"window {i} is not an array")).Select(t => t!.GetValue<int>()).ToArray())
                .ToList();
            int tokens = windows.Sum(w => w.Length);
            if (root["tokens"]?.GetValue<int>() is int declared && declared != tokens)
                throw new FormatException($"\"tokens\" is {declared} but the windows hold {tokens}");
            var steps = new List<RoutingHistoryStep>();
            foreach (var node in root["steps"] as JsonArray ?? [])
            {
                var s = node as JsonObject ?? throw new FormatException("each entry of \"steps\" must be an object");
                int step = s["step"]?.GetValue<int>() ?? throw new FormatException("a step entry lacks \"step\"");
                string file = s["file"]?.GetValue<string>() ?? throw new FormatException($"step {step} lacks \"file\"");
                if (file != StepFileName(step)) throw new FormatException($"step {step} must be stored in {StepFileName(step)}, not {file}");
                long length = new FileInfo(Path.Combine(folder, file)) is { Exists: true } info ? info.Length
                    : throw new FormatException($"the file {file} of step {step} is missing");
                if (length != (long)layers * tokens * topK) throw new FormatException($"{file} has {length} bytes; expected {layers} × {tokens} × {topK}");
                steps.Add(new RoutingHistoryStep(step, s["tokens_seen"]?.GetValue<long>() ?? 0));
            }
            if (steps.Zip(steps.Skip(1)).Any(p => p.First.Step >= p.Second.Step)) throw new FormatException("steps must be listed in ascending order");
            return new RoutingHistory(folder, layers, experts, topK, windows, steps, root["description"]?.DeepClone() as JsonObject);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{path}' is not a valid routing history: {e.Message}", e);
        }

        static int Positive(JsonObject root, string name) =>
            root[name]?.GetValue<int>() is int v && v > 0 ? v : throw new FormatException($"\"{name}\" must be a positive integer");
    }

    /// <summary>The record of one listed step.</summary>
    public RoutingRecord Read(int step)
    {
        if (!steps.Any(s => s.Step == step)) throw new ArgumentException($"Step {step} is not recorded; recorded: {string.Join(", ", steps.Select(s => s.Step))}.", nameof(step));
        var bytes = File.ReadAllBytes(Path.Combine(Folder, StepFileName(step)));
        foreach (byte b in bytes)
            if (b >= Experts) throw new InvalidDataException($"{StepFileName(step)} holds expert {b}, outside 0…{Experts - 1}.");
        return new RoutingRecord(step, Layers, TokenCount, TopK, bytes);
    }

    /// <summary>The record of the last step (the final model when the run finished).</summary>
    public RoutingRecord ReadFinal() =>
        steps.Count > 0 ? Read(steps[^1].Step) : throw new InvalidOperationException($"'{Folder}' has no recorded step.");

    /// <summary>Writes (or replaces) the record of a step and lists it in the index.</summary>
    public void Append(RoutingRecord record, long tokensSeen)
    {
        if (record.Layers != Layers || record.Tokens != TokenCount || record.TopK != TopK)
            throw new ArgumentException($"The record is {record.Layers} × {record.Tokens} × {record.TopK}; this history is {Layers} × {TokenCount} × {TopK}.");
        string path = Path.Combine(Folder, StepFileName(record.Step));
        File.WriteAllBytes(path + ".tmp", record.Bytes.ToArray());
        File.Move(path + ".tmp", path, overwrite: true);
        steps.RemoveAll(s => s.Step == record.Step);
        steps.Add(new RoutingHistoryStep(record.Step, tokensSeen));
        steps.Sort((a, b) => a.Step.CompareTo(b.Step));
        WriteIndex();
    }

    /// <summary>Drops recorded steps after <paramref name="step"/> (a resumed run records them again).</summary>
    public void TruncateAfter(int step)
    {
        foreach (var later in steps.Where(s => s.Step > step).ToList())
        {
            File.Delete(Path.Combine(Folder, StepFileName(later.Step)));
            steps.Remove(later);
        }
        WriteIndex();
    }

    public static string StepFileName(int step) => $"step-{step:D6}.bin";

    private void WriteIndex()
    {
        Directory.CreateDirectory(Folder);
        var root = new JsonObject
        {
            ["format"] = Format,
            ["version"] = FormatVersion,
            ["layout"] = "step-NNNNNN.bin: byte [layer][token][rank] = expert index; rank 0 = highest router probability",
            ["layers"] = Layers,
            ["experts"] = Experts,
            ["top_k"] = TopK,
            ["tokens"] = TokenCount,
            ["steps"] = new JsonArray(steps.Select(s => (JsonNode)new JsonObject
            {
                ["step"] = s.Step, ["tokens_seen"] = s.TokensSeen, ["file"] = StepFileName(s.Step),
            }).ToArray()),
        };
        if (Description is not null) root["description"] = Description.DeepClone();
        // One window per line keeps the file readable and diffs small.
        string json = root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        string windows = string.Join(",\n", Windows.Select(w => "    [" + string.Join(",", w) + "]"));
        json = json[..json.LastIndexOf('}')].TrimEnd() + ",\n  \"windows\": [\n" + windows + "\n  ]\n}\n";
        string path = Path.Combine(Folder, IndexFileName);
        File.WriteAllText(path + ".tmp", json);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}

/// <summary>A recorded step and the number of training tokens seen before it (step × batch × length).</summary>
public readonly record struct RoutingHistoryStep(int Step, long TokensSeen);
