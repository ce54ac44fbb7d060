using GrokLens.Tokenization;

namespace GrokLens.Tests.Tokenization;

public sealed class TokenizerFixture
{
    public GrokSentencePieceTokenizer Tokenizer { get; } = GrokSentencePieceTokenizer.LoadDefault();
}

public class GrokTokenizerTests(TokenizerFixture fixture) : IClassFixture<TokenizerFixture>
{
    private readonly GrokSentencePieceTokenizer _tok = fixture.Tokenizer;

    // SPEC §5 test vectors (sentencepiece 0.1.97, encode without BOS).
    public static TheoryData<string, int[]> SpecVectors => new()
    {
        { "The answer to life the universe and everything is of course", [422, 3033, 356, 1180, 333, 9072, 360, 2175, 391, 359, 1805] },
        { "Hello, world!", [11770, 130111, 1135, 130166] },
        { "1234567", [130089, 15, 16, 17, 18, 19, 20, 21] },
        { "  two leading spaces", [325, 867, 3714, 7543] },
        { "line1\nline2", [1585, 15, 4, 1075, 16] },
        { "<|separator|>", [130089, 47] },
        { "héllo 😀", [99798, 7041, 130089, 309, 228, 221, 197] },
    };

    [Theory]
    [MemberData(nameof(SpecVectors))]
    public void EncodeMatchesSentencePiece(string text, int[] expected)
        => Assert.Equal(expected, _tok.Encode(text));

    [Theory]
    [MemberData(nameof(SpecVectors))]
    public void DecodeOfSpecIdsGivesTextBack(string text, int[] ids)
        => Assert.Equal(text, _tok.Decode(ids));

    [Fact]
    public void VocabularyAndSpecialIds()
    {
        Assert.Equal(131072, _tok.VocabSize);
        Assert.Equal(1, _tok.BosId);
        Assert.Equal(2, _tok.EosId);
        Assert.Equal(0, _tok.PadId);
        Assert.Equal(3, _tok.UnkId);
        Assert.EndsWith(Path.Combine("models", "grok1-tokenizer", "tokenizer.model"), _tok.ModelPath);
    }

    [Theory]
    [InlineData(0, "[PAD]")]
    [InlineData(1, "[BOS]")]
    [InlineData(2, "[EOS]")]
    [InlineData(3, "[UNK]")]
    [InlineData(4, "\n")]
    [InlineData(5, "\n\n")]
    [InlineData(14, "0")]
    [InlineData(24, "\t")]
    [InlineData(32, "  ")]
    [InlineData(47, "<|separator|>")]
    [InlineData(48, "<|mask|>")]
    [InlineData(49, "<|control1|>")]
    [InlineData(68, "<|control20|>")]
    [InlineData(69, "<0x00>")]
    [InlineData(69 + 0x41, "<0x41>")]
    [InlineData(69 + 0xFF, "<0xFF>")]
    [InlineData(325, "▁▁")]
    [InlineData(130089, "▁")]
    [InlineData(1135, "▁world")]
    public void Pieces(int id, string piece)
    {
        Assert.Equal(piece, _tok.Piece(id));
        Assert.Equal(id, _tok.PieceToId(piece));
    }

    [Theory]
    [InlineData(1135, "▁world")]
    [InlineData(130089, "▁")]
    [InlineData(4, "↵")]
    [InlineData(6, "↵↵↵")]
    [InlineData(25, "⇥⇥")]
    [InlineData(32, "␣␣")]
    [InlineData(69 + 0x0A, "<0x0A>")]
    [InlineData(69 + 0xE2, "<0xE2>")]
    [InlineData(1, "[BOS]")]
    [InlineData(47, "<|separator|>")]
    public void DisplayPieces(int id, string display) => Assert.Equal(display, _tok.DisplayPiece(id));

    [Theory]
    [InlineData(-1)]
    [InlineData(131072)]
    public void OutOfRangeIdsAreRejected(int id)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _tok.Piece(id));
        Assert.Throws<ArgumentOutOfRangeException>(() => _tok.DisplayPiece(id));
        Assert.Throws<ArgumentOutOfRangeException>(() => _tok.Decode([422, id]));
    }

    [Fact]
    public void EncodeWithPiecesShowsNewlineAndEmojiBytes()
    {
        var pieces = _tok.EncodeWithPieces("Hi\n😀");
        Assert.Equal(_tok.Encode("Hi\n😀"), pieces.Select(p => p.Id));
        foreach (var p in pieces)
        {
            Assert.Equal(_tok.Piece(p.Id), p.Piece);
            Assert.Equal(_tok.DisplayPiece(p.Id), p.DisplayText);
        }
        // "\n" is the user-defined piece 4; the emoji U+1F600 falls back to its 4 UTF-8 bytes F0 9F 98 80.
        var newline = Assert.Single(pieces, p => p.Id == 4);
        Assert.Equal(new TokenPiece(4, "\n", "↵"), newline);
        Assert.Equal(["<0xF0>", "<0x9F>", "<0x98>", "<0x80>"], pieces.TakeLast(4).Select(p => p.Piece));
        Assert.Equal([69 + 0xF0, 69 + 0x9F, 69 + 0x98, 69 + 0x80], pieces.TakeLast(4).Select(p => p.Id));
        Assert.Equal(pieces.TakeLast(4).Select(p => p.Piece), pieces.TakeLast(4).Select(p => p.DisplayText));
        Assert.Equal("Hi\n😀", _tok.Decode(pieces.Select(p => p.Id)));
    }

    [Theory]
    [InlineData("Crème brûlée, señor! Ça va? Ærøskøbing, Ørsted, Łódź, naïve façade")]
    [InlineData("Emoji: 😀🎉👍🏽 and family 👨‍👩‍👧 and flag 🇫🇷")]
    [InlineData("Ελληνικά, русский, 日本語のテキスト, 한국어, العربية")]
    [InlineData("tabs\tand\n\nblank lines\n\n\n   three spaces and trailing space ")]
    [InlineData("<|separator|><|mask|> [BOS] text [EOS] <0x41>")]
    [InlineData("x = 3.14159 * 2**10 - 1_000_000")]
    [InlineData(" leading space")]
    [InlineData("a")]
    public void RoundTrip(string text)
    {
        var ids = _tok.Encode(text);
        Assert.All(ids, id => Assert.InRange(id, 0, _tok.VocabSize - 1));
        Assert.Equal(text, _tok.Decode(ids));
    }

    [Fact]
    public void UserDefinedSymbolsAreSinglePieces()
    {
        Assert.Equal([130089, 5], _tok.Encode("\n\n"));               // "\n\n" is id 5
        Assert.Equal([130089, 47, 48], _tok.Encode("<|separator|><|mask|>"));
        Assert.Contains(24 + 2, _tok.Encode("a\t\t\tb"));            // three tabs are id 26
    }

    [Fact]
    public void NoBosOrEosIsAddedAndControlIdsDecodeToNothing()
    {
        var ids = _tok.Encode("Hello");
        Assert.DoesNotContain(1, ids);
        Assert.DoesNotContain(2, ids);
        Assert.Equal("Hello", _tok.Decode([1, .. ids, 2, 0]));
        Assert.Equal("[UNK]", _tok.Decode([3])); // the model sets trainer_spec.unk_surface = "[UNK]"
    }

    [Fact]
    public void EmptyTextEncodesToNothing()
    {
        Assert.Empty(_tok.Encode(""));
        Assert.Empty(_tok.EncodeWithPieces(""));
        Assert.Equal("", _tok.Decode([]));
    }

    [Fact]
    public void InvalidUtf8BytesDecodeToReplacementCharacter()
        => Assert.Equal("a\uFFFD", _tok.Decode([_tok.Encode("a")[0], 69 + 0xE2]));
}
