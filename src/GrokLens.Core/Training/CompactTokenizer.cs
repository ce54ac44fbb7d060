using System.Text;
using GrokLens.Tokenization;

namespace GrokLens.Training;

/// <summary>
/// Grok-1's SentencePiece tokenizer seen through a <see cref="CompactVocabulary"/>. Encode runs Grok-1's encoder with
/// its merges restricted to the compact vocabulary (<see cref="CompactEncoding.RestrictedMerges"/>: a missing piece
/// splits into the smaller pieces it was merged from, and only characters outside the vocabulary become bytes) and
/// maps each id to its compact id; version 1 vocabularies turn a missing piece into the byte pieces of its UTF-8 text
/// (<see cref="CompactEncoding.BytesForMissingPieces"/>). Any text is encodable. Decode maps back to Grok-1 ids and
/// uses Grok-1's decoder; pieces shown are Grok-1's.
/// </summary>
public sealed class CompactTokenizer : ITokenizer
{
    private const char SpaceSymbol = '\u2581';
    private readonly GrokSentencePieceTokenizer grok;
    private readonly int[] byteCompactIds = new int[256];
    private readonly bool dummyPrefix;
    private readonly bool[] allowedGrokIds;

    public CompactTokenizer(GrokSentencePieceTokenizer grok, CompactVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(grok);
        ArgumentNullException.ThrowIfNull(vocabulary);
        vocabulary.CheckAgainst(grok);
        this.grok = grok;
        Vocabulary = vocabulary;
        allowedGrokIds = vocabulary.GrokIdMask();
        for (int b = 0; b < 256; b++) byteCompactIds[b] = vocabulary.CompactId(grok.PieceToId($"<0x{b:X2}>")!.Value)!.Value;
        var probe = grok.Encode("a");
        dummyPrefix = probe.Count > 0 && grok.Piece(probe[0]).StartsWith(SpaceSymbol);
        BosId = grok.BosId is int bos ? vocabulary.CompactId(bos) : null;
        EosId = grok.EosId is int eos ? vocabulary.CompactId(eos) : null;
        PadId = vocabulary.CompactId(grok.PadId)!.Value;
    }

    /// <summary>Loads <c>vocab.json</c> from a model folder and Grok-1's tokenizer (default: the repository's).</summary>
    public static CompactTokenizer Load(string modelFolder, string? grokTokenizerPath = null)
    {
        var vocabulary = CompactVocabulary.Load(modelFolder);
        var grok = GrokSentencePieceTokenizer.Load(grokTokenizerPath ?? TokenizerLocator.FindDefaultModelPath());
        return new CompactTokenizer(grok, vocabulary);
    }

    public CompactVocabulary Vocabulary { get; }

    public GrokSentencePieceTokenizer Grok => grok;

    public int VocabSize => Vocabulary.Count;
    public int? BosId { get; }
    public int? EosId { get; }
    public int PadId { get; }

    /// <summary>True for the 256 byte pieces (the fallback for characters outside the vocabulary).</summary>
    public bool IsByte(int compactId) => Array.IndexOf(byteCompactIds, compactId) >= 0;

    /// <summary>The Grok-1 id of a compact id (for showing Grok-1's numbering in the UI).</summary>
    public int GrokId(int compactId) => Vocabulary.GrokId(compactId);

    public IReadOnlyList<int> Encode(string text)
    {
        if (Vocabulary.Encoding == CompactEncoding.RestrictedMerges)
        {
            var restricted = grok.Encode(text, id => allowedGrokIds[id]);
            var compact = new int[restricted.Count];
            for (int i = 0; i < compact.Length; i++) compact[i] = Vocabulary.CompactId(restricted[i])!.Value;
            return compact;
        }
        var grokIds = grok.Encode(text);
        var ids = new List<int>(grokIds.Count);
        for (int i = 0; i < grokIds.Count; i++)
        {
            if (Vocabulary.CompactId(grokIds[i]) is int compact) { ids.Add(compact); continue; }
            // Byte fallback: the piece's text, "▁" read as a space, except the dummy prefix before the first piece.
            string piece = grok.Piece(grokIds[i]);
            if (i == 0 && dummyPrefix && piece.Length > 0 && piece[0] == SpaceSymbol) piece = piece[1..];
            foreach (byte b in Encoding.UTF8.GetBytes(piece.Replace(SpaceSymbol, ' '))) ids.Add(byteCompactIds[b]);
        }
        return ids;
    }

    public string Decode(IEnumerable<int> ids) => grok.Decode(ids.Select(Vocabulary.GrokId));

    public string Piece(int id) => grok.Piece(Vocabulary.GrokId(id));

    public string DisplayPiece(int id) => grok.DisplayPiece(Vocabulary.GrokId(id));

    public IReadOnlyList<TokenPiece> EncodeWithPieces(string text) =>
        Encode(text).Select(id => new TokenPiece(id, Piece(id), DisplayPiece(id))).ToList();
}
