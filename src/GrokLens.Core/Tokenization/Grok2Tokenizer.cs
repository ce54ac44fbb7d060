using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace GrokLens.Tokenization;

/// <summary>
/// Grok-2's tokenizer, a tiktoken-style byte-level BPE (vLLM's and SGLang's Grok-2 readers): text is split by the
/// vocabulary's regex, allowed special tokens are matched whole, and each word's bytes are merged lowest rank first.
/// The merging is Microsoft.ML.Tokenizers' <see cref="TiktokenTokenizer"/>; this class reads the files and gives pieces.
/// </summary>
public sealed class Grok2Tokenizer : ITokenizer
{
    public const string XaiFileName = "tokenizer.tok.json";
    public const string HuggingFaceFileName = "tokenizer.json";

    private readonly TiktokenTokenizer tokenizer;
    private readonly byte[][] bytesById;
    private readonly string?[] specialById;

    public Grok2Tokenizer(ByteLevelBpeVocabulary vocabulary, string source)
    {
        Source = source;
        int size = Math.Max(vocabulary.RegularTokens.Select(t => t.Id).DefaultIfEmpty(-1).Max(),
            vocabulary.SpecialTokens.Values.DefaultIfEmpty(-1).Max()) + 1;
        bytesById = new byte[size][];
        specialById = new string?[size];
        var ranks = new StringBuilder();
        foreach (var (bytes, id) in vocabulary.RegularTokens)
        {
            if (id < 0 || bytesById[id] is not null) throw new InvalidDataException($"{source}: token id {id} is listed twice or negative.");
            bytesById[id] = bytes;
            ranks.Append(Convert.ToBase64String(bytes)).Append(' ').Append(id).Append('\n');
        }
        foreach (var (text, id) in vocabulary.SpecialTokens)
        {
            if (bytesById[id] is not null) throw new InvalidDataException($"{source}: special token {text} reuses id {id}.");
            specialById[id] = text;
            bytesById[id] = Encoding.UTF8.GetBytes(text);
        }
        var allowed = vocabulary.SpecialTokens.Where(s => vocabulary.AllowedSpecialTokens.Contains(s.Key))
            .ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
        using var stream = new MemoryStream(Encoding.ASCII.GetBytes(ranks.ToString()));
        var split = new RegexPreTokenizer(new Regex(vocabulary.SplitPattern, RegexOptions.Compiled), allowed);
        tokenizer = TiktokenTokenizer.Create(stream, split, normalizer: null, allowed);
        VocabSize = size;
        PadId = vocabulary.SpecialTokens.GetValueOrDefault("<|pad|>", 0);
        EosId = vocabulary.SpecialTokens.TryGetValue("<|eos|>", out int eos) ? eos : null;
    }

    /// <summary>The file it was read from.</summary>
    public string Source { get; }

    public static Grok2Tokenizer LoadXai(string path) => new(ByteLevelBpeVocabulary.ReadXai(path), path);

    public static Grok2Tokenizer LoadHuggingFace(string path) => new(ByteLevelBpeVocabulary.ReadHuggingFace(path), path);

    /// <summary>xAI's tokenizer.tok.json in the folder, else a tokenizer.json conversion; null when neither is there.</summary>
    public static Grok2Tokenizer? FindBeside(string folder)
    {
        var xai = Path.Combine(folder, XaiFileName);
        if (File.Exists(xai)) return LoadXai(xai);
        var huggingFace = Path.Combine(folder, HuggingFaceFileName);
        return File.Exists(huggingFace) ? LoadHuggingFace(huggingFace) : null;
    }

    public int VocabSize { get; }

    /// <summary>Grok-2's runners add no beginning-of-sequence token.</summary>
    public int? BosId => null;

    public int? EosId { get; }
    public int PadId { get; }

    public IReadOnlyList<int> Encode(string text) => tokenizer.EncodeToIds(text);

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (id < 0 || id >= VocabSize || bytesById[id] is null) throw new ArgumentException($"Token id {id} is not in the vocabulary.");
            if (id == PadId || id == EosId) continue;
            bytes.AddRange(bytesById[id]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>The token's text: special tokens as written, others their bytes as UTF-8, or &lt;0xHH&gt;… when they are not whole characters.</summary>
    public string Piece(int id)
    {
        if (id < 0 || id >= VocabSize || bytesById[id] is null) throw new ArgumentException($"Token id {id} is not in the vocabulary.");
        if (specialById[id] is { } special) return special;
        var bytes = bytesById[id];
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return string.Concat(bytes.Select(b => $"<0x{b:X2}>"));
        }
    }

    public string DisplayPiece(int id) => specialById[id] is not null ? Piece(id) : GrokSentencePieceTokenizer.VisiblePiece(Piece(id));

    public IReadOnlyList<TokenPiece> EncodeWithPieces(string text) =>
        Encode(text).Select(id => new TokenPiece(id, Piece(id), DisplayPiece(id))).ToList();
}
