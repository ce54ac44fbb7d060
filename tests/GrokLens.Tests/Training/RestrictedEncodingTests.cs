using System.Text.Json.Nodes;
using GrokLens.Training;

namespace GrokLens.Tests.Training;

/// <summary>
/// Encoding with Grok-1's merges restricted to a compact vocabulary (<see cref="CompactEncoding.RestrictedMerges"/>):
/// checked against sentencepiece's own <c>SetVocabulary</c> (tests/fixtures/restricted-encoding) and for its promises.
/// </summary>
public class RestrictedEncodingTests
{
    private static CompactTokenizer TokenizerFor(params string[] texts) =>
        new(TrainingTestData.Grok, CompactVocabulary.Build(TrainingTestData.Grok, texts));

    public static TheoryData<string, int> FixtureCases()
    {
        var data = new TheoryData<string, int>();
        var fixture = Fixture();
        foreach (var restriction in fixture["restrictions"]!.AsArray())
            for (int i = 0; i < restriction!["cases"]!.AsArray().Count; i++)
                data.Add(restriction["name"]!.GetValue<string>(), i);
        return data;
    }

    private static JsonObject Fixture() => JsonNode.Parse(File.ReadAllText(Path.Combine(
        TestModels.RepositoryRoot(), "tests", "fixtures", "restricted-encoding", "restricted-encoding.json")))!.AsObject();

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void MatchesSentencepieceUnderSetVocabulary(string restrictionName, int caseIndex)
    {
        var restriction = Fixture()["restrictions"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == restrictionName)!;
        var allowed = restriction["vocabulary_ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToHashSet();
        var testCase = restriction["cases"]!.AsArray()[caseIndex]!;
        string text = testCase["text"]!.GetValue<string>();
        var expected = testCase["ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToList();

        var actual = TrainingTestData.Grok.Encode(text, allowed.Contains);

        Assert.Equal(expected, actual);
        Assert.Equal(text, TrainingTestData.Grok.Decode(actual));
    }

    /// <summary>"9a9b…9z9A…9Z": every letter as a piece of its own (a digit is a frozen user-defined symbol).</summary>
    private static readonly string LettersAlone =
        string.Concat("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".Select(c => "9" + c));

    [Fact]
    public void OrdinaryEnglishWordsSplitIntoVocabularyPiecesNeverBytes()
    {
        // A vocabulary that has the letters and "'" alone (a digit, a frozen user-defined piece, stops merges) and a few
        // words, but none of the words below as whole pieces.
        var tokenizer = TokenizerFor("The cat sat on the mat. " + LettersAlone + " 9'");
        const string text = "The dog barked at the postman while Elizabeth quietly considered her grandmother's extraordinary adventures";
        var pieces = tokenizer.EncodeWithPieces(text);
        Assert.True(!pieces.Any(p => tokenizer.IsByte(p.Id)), string.Join("|", pieces.Select(p => p.Piece)));
        Assert.Equal(text, tokenizer.Decode(pieces.Select(p => p.Id)));
        Assert.Contains("▁The", pieces.Select(p => p.Piece));
        // " dog" splits along its merges into pieces such as "▁" "d" "o" "g", never <0x20><0x64><0x6F><0x67>.
        var dog = tokenizer.EncodeWithPieces("The dog").Skip(1).ToList();
        Assert.Equal("▁dog", string.Concat(dog.Select(p => p.Piece)));
        Assert.DoesNotContain(dog, p => tokenizer.IsByte(p.Id));
    }

    [Fact]
    public void AMissingWordSplitsIntoThePiecesItWasMergedFrom()
    {
        var grok = TrainingTestData.Grok;
        var full = grok.Encode("The cat sat quietly");
        int quietly = full[^1];
        Assert.Equal("▁quietly", grok.Piece(quietly));
        // Everything but "▁quietly" itself: its merge parents are used, so the word stays two or three pieces.
        var allowed = Enumerable.Range(0, grok.VocabSize).Where(id => id != quietly).ToHashSet();
        var restricted = grok.Encode("The cat sat quietly", allowed.Contains);
        Assert.Equal(full.Take(3), restricted.Take(3));
        var tail = restricted.Skip(3).Select(grok.Piece).ToList();
        Assert.InRange(tail.Count, 2, 3);
        Assert.Equal("▁quietly", string.Concat(tail));
    }

    [Theory]
    [InlineData("The cat sat on the mat.")]
    [InlineData("Zébulon the cat says héllo to the mat 👋🏽 — naïve façade, Ærøskøbing!")]
    [InlineData("Xylophone quixotically sat")]
    [InlineData(" the cat\n\n\tsat  twice ")]
    [InlineData("   leading spaces, trailing   ")]
    [InlineData("日本語のテキスト")]
    [InlineData("é")]
    public void RoundTripsAnyText(string text)
    {
        var tokenizer = TokenizerFor("The cat sat on the mat.");
        var ids = tokenizer.Encode(text);
        Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    [Fact]
    public void RoundTripsRandomUnicodeText()
    {
        var tokenizer = TokenizerFor("The cat sat on the mat. Once upon a time.");
        var random = new Random(17);
        string[] alphabet = ["a", "b", "e", "t", " ", "  ", "\n", "\t", "é", "ß", "Ω", "中", "🙂", "👋🏽", "1", "9", ".", "'", "\"", "The", " cat", "ing"];
        for (int trial = 0; trial < 200; trial++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(1, 40)).Select(_ => alphabet[random.Next(alphabet.Length)]));
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        }
    }

    [Fact]
    public void ByteFallbackIsTheLastResortForCharactersOutsideTheVocabulary()
    {
        var tokenizer = TokenizerFor("The cat sat on the mat.");
        var pieces = tokenizer.EncodeWithPieces("The cat é").Select(p => p.Piece).ToList();
        // "▁é" is not in the vocabulary and neither is "▁" alone: the space and the letter become bytes.
        Assert.Equal(["▁The", "▁cat", "<0x20>", "<0xC3>", "<0xA9>"], pieces);
    }

    [Fact]
    public void VersionOneVocabulariesKeepTheirByteEncoding()
    {
        using var dir = new TempDirectory();
        var legacy = CompactVocabulary.Build(TrainingTestData.Grok, ["The cat sat on the mat. 9d9o9g"], encoding: CompactEncoding.BytesForMissingPieces);
        legacy.Save(dir.Path);
        Assert.Contains("\"version\":1", File.ReadAllText(Path.Combine(dir.Path, CompactVocabulary.FileName)));
        var loaded = CompactVocabulary.Load(dir.Path);
        Assert.Equal(CompactEncoding.BytesForMissingPieces, loaded.Encoding);
        var tokenizer = new CompactTokenizer(TrainingTestData.Grok, loaded);
        Assert.Equal(["▁The", "<0x20>", "<0x64>", "<0x6F>", "<0x67>"], tokenizer.EncodeWithPieces("The dog").Select(p => p.Piece));

        var current = CompactVocabulary.Build(TrainingTestData.Grok, ["The cat sat on the mat. 9d9o9g"]);
        current.Save(dir.Path);
        Assert.Equal(CompactEncoding.RestrictedMerges, CompactVocabulary.Load(dir.Path).Encoding);
        var restricted = new CompactTokenizer(TrainingTestData.Grok, current);
        Assert.True(!restricted.Encode("The dog").Any(restricted.IsByte), string.Join("|", restricted.EncodeWithPieces("The dog").Select(p => p.Piece)));
    }

    [Fact]
    public void BuildWithSizePrunesTheLeastUsedPiecesToTheRequestedSize()
    {
        string text = string.Concat(Enumerable.Repeat("The little cat sat on the mat. The little dog sat on the log. ", 20)) +
                      "A quixotic xylophonist arrived once.";
        var grok = TrainingTestData.Grok;
        int everything = CompactVocabulary.Build(grok, [text]).Count;
        int size = everything - 5;
        var vocabulary = CompactVocabulary.BuildWithSize(grok, [text], size);
        Assert.Equal(size, vocabulary.Count);
        // The frequent words survive whole; the text still round-trips without bytes for its letters.
        var tokenizer = new CompactTokenizer(grok, vocabulary);
        Assert.Equal(["▁The", "▁little", "▁cat"], tokenizer.EncodeWithPieces("The little cat").Select(p => p.Piece));
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        Assert.Throws<ArgumentOutOfRangeException>(() => CompactVocabulary.BuildWithSize(grok, [text], 100));
    }
}
