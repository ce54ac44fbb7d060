using System.Text;
using System.Text.Json;

namespace GrokLens.Tokenization;

/// <summary>
/// A byte-level BPE vocabulary in tiktoken's terms: each regular token is a byte string whose id is also its merge rank,
/// special tokens are whole strings matched before splitting, and a regex splits text into words before merging.
/// Read from xAI's <c>tokenizer.tok.json</c> (Grok-2's release) or from a Hugging Face <c>tokenizer.json</c> conversion.
/// </summary>
public sealed record ByteLevelBpeVocabulary(
    IReadOnlyList<(byte[] Bytes, int Id)> RegularTokens,
    IReadOnlyDictionary<string, int> SpecialTokens,
    string SplitPattern,
    ISet<string> AllowedSpecialTokens)
{
    /// <summary>A tokenizer file is at most this large (Grok-2's is a few MB); reading stops there.</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>
    /// tiktoken's cl100k split with each digit alone: xAI's "V1" word split (as vLLM's and SGLang's Grok-2 readers define it).
    /// </summary>
    public const string WordSplitV1 =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Grok-2's pad, separator and end tokens, and the control and reserved tokens its readers always allow in text.</summary>
    public static IEnumerable<string> Grok2AllowedSpecials =>
        new[] { "<|pad|>", "<|separator|>", "<|eos|>" }
            .Concat(Enumerable.Range(1, 704).Select(i => $"<|control{i}|>"))
            .Concat(Enumerable.Range(3, 125).Select(i => $"<|reserved_{i}|>"));

    /// <summary>
    /// xAI's <c>tokenizer.tok.json</c>: <c>regular_tokens</c> and <c>special_tokens</c> as lists of {"bytes": [..], "token": id},
    /// <c>word_split</c> "V1" (or an explicit <c>pat_str</c>), optional <c>vocab_size</c> and <c>default_allowed_special</c>.
    /// </summary>
    public static ByteLevelBpeVocabulary ReadXai(string path)
    {
        using var document = Parse(path);
        var root = document.RootElement;
        var regular = TokenList(path, root, "regular_tokens");
        var specials = TokenList(path, root, "special_tokens")
            .ToDictionary(t => Encoding.UTF8.GetString(t.Bytes), t => t.Id, StringComparer.Ordinal);
        string pattern = root.TryGetProperty("pat_str", out var explicitPattern) && explicitPattern.ValueKind == JsonValueKind.String
            ? explicitPattern.GetString()!
            : (root.TryGetProperty("word_split", out var split) ? split.ToString() : null) switch
            {
                "V1" => WordSplitV1,
                var other => throw new InvalidDataException($"{path}: unknown word_split \"{other}\" (GrokLens knows \"V1\", or give pat_str)."),
            };
        var allowed = new HashSet<string>(Grok2AllowedSpecials, StringComparer.Ordinal);
        if (root.TryGetProperty("default_allowed_special", out var defaults) && defaults.ValueKind == JsonValueKind.Array)
            foreach (var bytes in defaults.EnumerateArray())
                allowed.Add(Encoding.UTF8.GetString(Bytes(path, bytes)));
        var vocabulary = new ByteLevelBpeVocabulary(regular, specials, pattern, allowed);
        if (root.TryGetProperty("vocab_size", out var size) && size.TryGetInt32(out int declared))
            vocabulary.CheckSize(path, declared);
        return vocabulary;
    }

    /// <summary>
    /// A Hugging Face <c>tokenizer.json</c> of a byte-level BPE (the community conversion of Grok-2's tokenizer that llama.cpp
    /// uses): the vocabulary's strings are bytes through GPT-2's byte-to-character table, its ids are the ranks, the split
    /// regex comes from the pre-tokenizer and <c>added_tokens</c> flagged special are the special tokens. Merges, when
    /// listed, must follow the ranks (as in every conversion made from a tiktoken file); anything else is refused.
    /// </summary>
    public static ByteLevelBpeVocabulary ReadHuggingFace(string path)
    {
        using var document = Parse(path);
        var root = document.RootElement;
        if (!root.TryGetProperty("model", out var model) || !model.TryGetProperty("type", out var type) || type.GetString() != "BPE")
            throw new InvalidDataException($"{path}: not a BPE tokenizer.json (model.type must be \"BPE\").");
        var fromChar = GptByteTable.CharToByte;
        var regular = new List<(byte[], int)>();
        var rankOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
        {
            var bytes = new byte[entry.Name.Length];
            for (int i = 0; i < bytes.Length; i++)
                bytes[i] = fromChar.TryGetValue(entry.Name[i], out byte b)
                    ? b
                    : throw new InvalidDataException($"{path}: vocabulary entry \"{entry.Name}\" is not byte-level (character U+{(int)entry.Name[i]:X4}).");
            regular.Add((bytes, entry.Value.GetInt32()));
            rankOf[entry.Name] = entry.Value.GetInt32();
        }
        CheckMergesFollowRanks(path, model, rankOf);
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var added))
            foreach (var token in added.EnumerateArray())
                if (token.TryGetProperty("special", out var special) && special.GetBoolean())
                    specials[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt32();
        var pattern = SplitRegex(root) ?? throw new InvalidDataException($"{path}: the pre_tokenizer has no Split regex.");
        return new ByteLevelBpeVocabulary(regular, specials, pattern, new HashSet<string>(specials.Keys, StringComparer.Ordinal));
    }

    private void CheckSize(string path, int declared)
    {
        int count = RegularTokens.Count + SpecialTokens.Count;
        if (count != declared) throw new InvalidDataException($"{path}: vocab_size says {declared} tokens but the file lists {count}.");
    }

    private static void CheckMergesFollowRanks(string path, JsonElement model, Dictionary<string, int> rankOf)
    {
        if (!model.TryGetProperty("merges", out var merges)) return;
        int previous = -1, index = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            string joined = merge.ValueKind == JsonValueKind.Array
                ? string.Concat(merge.EnumerateArray().Select(p => p.GetString()))
                : merge.GetString()!.Replace(" ", "", StringComparison.Ordinal);
            if (!rankOf.TryGetValue(joined, out int rank) || rank <= previous)
                throw new InvalidDataException(
                    $"{path}: merge {index} (\"{joined}\") does not follow the vocabulary's order; GrokLens reads byte-level BPEs whose ids are their merge ranks.");
            previous = rank;
            index++;
        }
    }

    private static string? SplitRegex(JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object) return null;
        var steps = pre.TryGetProperty("pretokenizers", out var list) ? list.EnumerateArray().ToList() : [pre];
        foreach (var step in steps)
            if (step.TryGetProperty("type", out var type) && type.GetString() == "Split"
                && step.TryGetProperty("pattern", out var pattern) && pattern.TryGetProperty("Regex", out var regex))
                return regex.GetString();
        return null;
    }

    private static List<(byte[] Bytes, int Id)> TokenList(string path, JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out var list) || list.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: \"{key}\" must be a list of {{\"bytes\": [...], \"token\": id}}.");
        return list.EnumerateArray().Select(item => (Bytes(path, item.GetProperty("bytes")), item.GetProperty("token").GetInt32())).ToList();
    }

    private static byte[] Bytes(string path, JsonElement array) =>
        array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray().Select(b => b.TryGetByte(out byte value) ? value
                : throw new InvalidDataException($"{path}: token bytes must be numbers 0…255.")).ToArray()
            : throw new InvalidDataException($"{path}: token bytes must be a list of numbers.");

    private static JsonDocument Parse(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var bounded = new MemoryStream();
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (bounded.Length + read > MaxFileBytes)
                throw new InvalidDataException($"{path}: larger than {MaxFileBytes >> 20} MB; not a tokenizer file.");
            bounded.Write(buffer, 0, read);
        }
        try
        {
            return JsonDocument.Parse(bounded.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }
    }
}
