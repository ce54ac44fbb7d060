using GrokLens.Training;

namespace GrokLens.Tests.Training;

public class CompactTokenizerTests
{
    [Fact]
    public void VocabularyKeepsSpecialsBytesAndCorpusPiecesWithPadAtZero()
    {
        var vocab = CompactVocabulary.Build(TrainingTestData.Grok, ["The cat sat on the mat."]);
        Assert.Equal(0, vocab.GrokId(0));
        Assert.Equal([0, 1, 2, 3], vocab.GrokIds.Take(4));
        for (int b = 0; b < 256; b++) Assert.NotNull(vocab.CompactId(69 + b));
        foreach (int id in TrainingTestData.Grok.Encode("The cat sat on the mat.")) Assert.NotNull(vocab.CompactId(id));
        Assert.True(vocab.GrokIds.Zip(vocab.GrokIds.Skip(1)).All(p => p.First < p.Second), "compact ids follow Grok-1 order");
        Assert.True(vocab.Count < 300);
    }

    [Theory]
    [InlineData("The cat sat on the mat.")]
    [InlineData("Zébulon the cat says héllo to the mat 👋🏽 — naïve façade, Ærøskøbing!")]
    [InlineData("Xylophone quixotically sat")]
    [InlineData(" the cat\n\n\tsat  twice ")]
    [InlineData("日本語のテキスト")]
    public void RoundTripsAnyTextThroughByteFallback(string text)
    {
        var tokenizer = new CompactTokenizer(TrainingTestData.Grok, CompactVocabulary.Build(TrainingTestData.Grok, ["The cat sat on the mat."]));
        var ids = tokenizer.Encode(text);
        Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    [Fact]
    public void UnknownWordsBecomeBytePiecesAndKnownOnesStayWhole()
    {
        var tokenizer = new CompactTokenizer(TrainingTestData.Grok, CompactVocabulary.Build(TrainingTestData.Grok, ["The cat sat on the mat."]));
        var pieces = tokenizer.EncodeWithPieces("The cat é").Select(p => p.Piece).ToList();
        Assert.Equal(["▁The", "▁cat", "<0x20>", "<0xC3>", "<0xA9>"], pieces);
        int cat = tokenizer.Encode("The cat")[1];
        Assert.Equal(TrainingTestData.Grok.Encode("The cat")[1], tokenizer.GrokId(cat));
        Assert.Equal("▁cat", tokenizer.DisplayPiece(cat));
    }

    [Fact]
    public void SaveAndLoadRoundTripAndRejectBadFiles()
    {
        using var dir = new TempDirectory();
        var vocab = CompactVocabulary.Build(TrainingTestData.Grok, ["Hello there, little bear."]);
        vocab.Save(dir.Path);
        var loaded = CompactVocabulary.Load(dir.Path);
        Assert.Equal(vocab.GrokIds, loaded.GrokIds);
        var tokenizer = new CompactTokenizer(TrainingTestData.Grok, loaded);
        Assert.Equal("Hello bear 🐻", tokenizer.Decode(tokenizer.Encode("Hello bear 🐻")));

        string path = Path.Combine(dir.Path, CompactVocabulary.FileName);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"grok_id\":0,", "\"grok_id\":5,"));
        var e = Assert.Throws<InvalidDataException>(() => CompactVocabulary.Load(dir.Path));
        Assert.Contains("PAD", e.Message);
        File.WriteAllText(path, "{\"format\":\"something-else\"}");
        Assert.Contains("format", Assert.Throws<InvalidDataException>(() => CompactVocabulary.Load(path)).Message);
        Assert.Throws<FileNotFoundException>(() => CompactVocabulary.Load(Path.Combine(dir.Path, "missing")));
    }
}
