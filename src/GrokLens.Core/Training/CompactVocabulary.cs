using System.Text.Json;
using System.Text.Json.Nodes;
using GrokLens.Tokenization;

namespace GrokLens.Training;

/// <summary>
/// A small vocabulary cut out of Grok-1's: the special tokens (PAD, BOS, EOS, UNK), the 256 byte pieces and the pieces
/// that occur in a corpus, each given a compact id. Compact ids follow Grok-1 ids in ascending order, so PAD (Grok-1 id
/// 0) stays compact id 0 — the model masks keys whose id is 0. Saved as <c>vocab.json</c> beside the weights
/// (version 2; version 1 files, which encode with <see cref="CompactEncoding.BytesForMissingPieces"/>, still load).
/// </summary>
public sealed class CompactVocabulary
{
    public const string FileName = "vocab.json";
    public const string Format = "groklens-compact-vocabulary";
    public const int FormatVersion = 2;
    /// <summary>The "encoding" value of version 2 files.</summary>
    public const string EncodingName = "restricted-merges";

    private readonly int[] grokIds;
    private readonly string[] pieces;
    private readonly Dictionary<int, int> compactByGrok;

    private CompactVocabulary(int[] grokIds, string[] pieces, int grokVocabSize, CompactEncoding encoding)
    {
        this.grokIds = grokIds;
        this.pieces = pieces;
        GrokVocabSize = grokVocabSize;
        Encoding = encoding;
        compactByGrok = new Dictionary<int, int>(grokIds.Length);
        for (int i = 0; i < grokIds.Length; i++)
            if (!compactByGrok.TryAdd(grokIds[i], i))
                throw new InvalidDataException($"Grok-1 id {grokIds[i]} appears twice in the compact vocabulary (compact ids {compactByGrok[grokIds[i]]} and {i}).");
    }

    /// <summary>Number of compact ids (the model's vocab_size).</summary>
    public int Count => grokIds.Length;

    /// <summary>Size of the full vocabulary the ids refer to (131,072 for Grok-1).</summary>
    public int GrokVocabSize { get; }

    /// <summary>How a Grok-1 piece outside this vocabulary is encoded.</summary>
    public CompactEncoding Encoding { get; }

    /// <summary>Compact id → Grok-1 id, in compact id order.</summary>
    public IReadOnlyList<int> GrokIds => grokIds;

    /// <summary>The Grok-1 id of a compact id.</summary>
    public int GrokId(int compactId)
    {
        if ((uint)compactId >= (uint)grokIds.Length)
            throw new ArgumentOutOfRangeException(nameof(compactId), compactId, $"Compact id {compactId} is outside [0, {grokIds.Length}).");
        return grokIds[compactId];
    }

    /// <summary>The compact id of a Grok-1 id, or null when the piece is not in the compact vocabulary.</summary>
    public int? CompactId(int grokId) => compactByGrok.TryGetValue(grokId, out int id) ? id : null;

    /// <summary>The raw Grok-1 piece of a compact id, as stored in the file.</summary>
    public string Piece(int compactId) => pieces[CheckedIndex(compactId)];

    /// <summary>
    /// Builds the vocabulary of <paramref name="texts"/> encoded with <paramref name="grok"/>: every piece occurring at
    /// least <paramref name="minCount"/> times, plus PAD/BOS/EOS/UNK and the 256 byte pieces (always kept, so any
    /// text stays encodable). Other pieces are encoded with <paramref name="encoding"/>.
    /// </summary>
    public static CompactVocabulary Build(GrokSentencePieceTokenizer grok, IEnumerable<string> texts, int minCount = 1,
        CompactEncoding encoding = CompactEncoding.RestrictedMerges)
    {
        ArgumentNullException.ThrowIfNull(grok);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minCount);
        var counts = CountPieces(grok, texts, allowed: null);
        return FromGrokIds(grok, counts.Where(kv => kv.Value >= minCount).Select(kv => kv.Key), encoding);
    }

    /// <summary>
    /// Builds a vocabulary of at most <paramref name="size"/> ids for <paramref name="texts"/> by pruning: start from
    /// every Grok-1 piece the texts use, then repeatedly encode the texts restricted to the current set
    /// (<see cref="CompactEncoding.RestrictedMerges"/>) and drop the least used pieces (at most a fifth of the set per
    /// round, ties broken towards higher Grok-1 ids), until the size is reached. Recounting after each round lets the
    /// pieces that dropped words split into gain the counts they inherit. PAD/BOS/EOS/UNK and the byte pieces are
    /// always kept.
    /// </summary>
    public static CompactVocabulary BuildWithSize(GrokSentencePieceTokenizer grok, IReadOnlyList<string> texts, int size,
        IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(grok);
        ArgumentNullException.ThrowIfNull(texts);
        var required = RequiredGrokIds(grok).ToHashSet();
        if (size < required.Count + 1)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"A compact vocabulary needs more than its {required.Count} required ids.");
        var kept = CountPieces(grok, texts, allowed: null).Keys.ToHashSet();
        kept.UnionWith(required);
        while (kept.Count > size)
        {
            var allowed = Mask(grok.VocabSize, kept);
            var counts = CountPieces(grok, texts, id => allowed[id]);
            int drop = Math.Min(kept.Count - size, Math.Max(1, kept.Count / 5));
            var dropped = kept.Where(id => !required.Contains(id))
                .OrderBy(id => counts.GetValueOrDefault(id)).ThenByDescending(id => id).Take(drop).ToList();
            kept.ExceptWith(dropped);
            progress?.Report($"vocabulary: {kept.Count} pieces (dropped {dropped.Count} used at most {counts.GetValueOrDefault(dropped[^1])} times)");
        }
        return FromGrokIds(grok, kept, CompactEncoding.RestrictedMerges);
    }

    private static CompactVocabulary FromGrokIds(GrokSentencePieceTokenizer grok, IEnumerable<int> pieceIds, CompactEncoding encoding)
    {
        var kept = new SortedSet<int>(pieceIds);
        foreach (int id in RequiredGrokIds(grok)) kept.Add(id);
        var ids = kept.ToArray();
        return new CompactVocabulary(ids, ids.Select(grok.Piece).ToArray(), grok.VocabSize, encoding);
    }

    /// <summary>How often each Grok-1 id occurs in the texts encoded with the given restriction.</summary>
    private static Dictionary<int, long> CountPieces(GrokSentencePieceTokenizer grok, IEnumerable<string> texts, Func<int, bool>? allowed)
    {
        var counts = new Dictionary<int, long>();
        foreach (var text in texts)
            foreach (int id in grok.Encode(text, allowed))
                counts[id] = counts.GetValueOrDefault(id) + 1;
        return counts;
    }

    /// <summary>A lookup table over Grok-1 ids: true for the ids in this vocabulary.</summary>
    public bool[] GrokIdMask() => Mask(GrokVocabSize, grokIds);

    private static bool[] Mask(int size, IEnumerable<int> ids)
    {
        var mask = new bool[size];
        foreach (int id in ids) mask[id] = true;
        return mask;
    }

    /// <summary>PAD, BOS, EOS, UNK and the 256 byte pieces of <paramref name="grok"/>.</summary>
    public static IEnumerable<int> RequiredGrokIds(GrokSentencePieceTokenizer grok)
    {
        yield return grok.PadId;
        if (grok.BosId is int bos) yield return bos;
        if (grok.EosId is int eos) yield return eos;
        yield return grok.UnkId;
        for (int b = 0; b < 256; b++)
            yield return grok.PieceToId($"<0x{b:X2}>")
                         ?? throw new InvalidDataException($"The tokenizer '{grok.ModelPath}' has no byte piece <0x{b:X2}>.");
    }

    /// <summary>Writes <c>vocab.json</c> into <paramref name="folder"/> (or to a path ending in .json).</summary>
    public void Save(string folderOrFile)
    {
        string path = folderOrFile.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? folderOrFile : Path.Combine(folderOrFile, FileName);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var tokens = new JsonArray();
        for (int i = 0; i < grokIds.Length; i++)
            tokens.Add(new JsonObject { ["id"] = i, ["grok_id"] = grokIds[i], ["piece"] = pieces[i] });
        var root = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Encoding == CompactEncoding.BytesForMissingPieces ? 1 : FormatVersion,
            ["base_tokenizer"] = "grok-1 sentencepiece (tokenizer.model)",
            ["base_vocab_size"] = GrokVocabSize,
            ["vocab_size"] = grokIds.Length,
        };
        if (Encoding == CompactEncoding.RestrictedMerges) root["encoding"] = EncodingName;
        root["tokens"] = tokens;
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) + "\n");
    }

    /// <summary>Reads <c>vocab.json</c> from a folder or a file path.</summary>
    /// <exception cref="FileNotFoundException">No vocab.json there.</exception>
    /// <exception cref="InvalidDataException">The file is malformed; the message names the problem.</exception>
    public static CompactVocabulary Load(string folderOrFile)
    {
        string path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, FileName) : folderOrFile;
        if (!File.Exists(path)) throw new FileNotFoundException($"Compact vocabulary not found: '{path}'.", path);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FormatException("the file must hold a JSON object");
            if (root["format"]?.GetValue<string>() != Format)
                throw new FormatException($"\"format\" must be \"{Format}\"");
            int version = root["version"]?.GetValue<int>() ?? throw new FormatException("\"version\" is missing");
            if (version is not (1 or FormatVersion)) throw new FormatException($"version {version} is not supported (expected 1 or {FormatVersion})");
            var encoding = CompactEncoding.BytesForMissingPieces;
            if (version == FormatVersion)
            {
                string? name = root["encoding"]?.GetValue<string>();
                if (name != EncodingName) throw new FormatException($"\"encoding\" must be \"{EncodingName}\" in version {FormatVersion}");
                encoding = CompactEncoding.RestrictedMerges;
            }
            int baseSize = root["base_vocab_size"]?.GetValue<int>() ?? throw new FormatException("\"base_vocab_size\" is missing");
            var tokens = root["tokens"] as JsonArray ?? throw new FormatException("\"tokens\" must be an array");
            int declared = root["vocab_size"]?.GetValue<int>() ?? tokens.Count;
            if (declared != tokens.Count) throw new FormatException($"\"vocab_size\" is {declared} but {tokens.Count} tokens are listed");
            var ids = new int[tokens.Count];
            var pieces = new string[tokens.Count];
            for (int i = 0; i < tokens.Count; i++)
            {
                var token = tokens[i] as JsonObject ?? throw new FormatException($"token #{i} is not an object");
                int id = token["id"]?.GetValue<int>() ?? throw new FormatException($"token #{i} lacks \"id\"");
                if (id != i) throw new FormatException($"token #{i} has id {id}; ids must be 0, 1, 2, … in order");
                ids[i] = token["grok_id"]?.GetValue<int>() ?? throw new FormatException($"token #{i} lacks \"grok_id\"");
                if (ids[i] < 0 || ids[i] >= baseSize) throw new FormatException($"token #{i} has grok_id {ids[i]} outside [0, {baseSize})");
                pieces[i] = token["piece"]?.GetValue<string>() ?? throw new FormatException($"token #{i} lacks \"piece\"");
            }
            if (ids.Length == 0 || ids[0] != 0) throw new FormatException("compact id 0 must be Grok-1 id 0 (PAD): the model masks id 0 as padding");
            return new CompactVocabulary(ids, pieces, baseSize, encoding);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or InvalidDataException)
        {
            throw new InvalidDataException($"'{path}' is not a valid compact vocabulary: {e.Message}", e);
        }
    }

    /// <summary>Throws when <paramref name="grok"/> is not the tokenizer this vocabulary was cut from, or lacks a required piece.</summary>
    public void CheckAgainst(GrokSentencePieceTokenizer grok)
    {
        if (grok.VocabSize != GrokVocabSize)
            throw new InvalidDataException($"The compact vocabulary refers to a {GrokVocabSize}-piece tokenizer, but '{grok.ModelPath}' has {grok.VocabSize} pieces.");
        for (int i = 0; i < grokIds.Length; i++)
            if (grok.Piece(grokIds[i]) != pieces[i])
                throw new InvalidDataException(
                    $"Compact id {i} stores piece '{pieces[i]}' for Grok-1 id {grokIds[i]}, but '{grok.ModelPath}' has '{grok.Piece(grokIds[i])}' there: wrong tokenizer.");
        foreach (int required in RequiredGrokIds(grok))
            if (!compactByGrok.ContainsKey(required))
                throw new InvalidDataException($"The compact vocabulary lacks the required piece '{grok.Piece(required)}' (Grok-1 id {required}).");
    }

    private int CheckedIndex(int compactId)
    {
        if ((uint)compactId >= (uint)grokIds.Length)
            throw new ArgumentOutOfRangeException(nameof(compactId), compactId, $"Compact id {compactId} is outside [0, {grokIds.Length}).");
        return compactId;
    }
}
