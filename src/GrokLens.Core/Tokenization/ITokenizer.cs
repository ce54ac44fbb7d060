namespace GrokLens.Tokenization;

/// <summary>One encoded token: its id, the raw SentencePiece piece and a UI-friendly rendering of it.</summary>
/// <param name="Id">Token id in [0, VocabSize).</param>
/// <param name="Piece">Raw piece, e.g. "▁world", "&lt;0x0A&gt;", "\n".</param>
/// <param name="DisplayText">The piece made visible, see <see cref="ITokenizer.DisplayPiece"/>.</param>
public readonly record struct TokenPiece(int Id, string Piece, string DisplayText);

/// <summary>A text tokenizer for a language model vocabulary.</summary>
public interface ITokenizer
{
    /// <summary>Number of pieces (ids are 0 … VocabSize − 1).</summary>
    int VocabSize { get; }

    /// <summary>Beginning-of-sequence id, or null if the vocabulary has none.</summary>
    int? BosId { get; }

    /// <summary>End-of-sequence id, or null if the vocabulary has none.</summary>
    int? EosId { get; }

    /// <summary>Padding id.</summary>
    int PadId { get; }

    /// <summary>Encodes text to ids. No BOS/EOS are added (like xAI's runner, which calls <c>encode(prompt)</c>).</summary>
    IReadOnlyList<int> Encode(string text);

    /// <summary>Decodes ids to text. Control tokens (PAD/BOS/EOS) decode to nothing.</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>The raw SentencePiece piece of an id, e.g. "▁world", "&lt;0x0A&gt;", "[BOS]".</summary>
    string Piece(int id);

    /// <summary>
    /// The piece made visible for a UI. Convention: the whitespace marker "▁" is kept as is; byte pieces
    /// ("&lt;0xE2&gt;") and control pieces ("[BOS]") are kept as is; newline is shown as "↵", tab as "⇥",
    /// carriage return as "␍", an ASCII space as "␣" and other C0 control characters as their
    /// Unicode control pictures (U+2400 block).
    /// </summary>
    string DisplayPiece(int id);

    /// <summary>Encodes text and returns each token with its piece and display text.</summary>
    IReadOnlyList<TokenPiece> EncodeWithPieces(string text);
}
