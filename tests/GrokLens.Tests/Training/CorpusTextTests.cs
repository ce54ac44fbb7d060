using GrokLens.Training;

namespace GrokLens.Tests.Training;

public class CorpusTextTests
{
    [Fact]
    public void CleanStripsGutenbergHeaderFooterAndNormalisesLineEndings()
    {
        string raw = "\uFEFFThe Project Gutenberg EBook of X\r\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\r\n\r\nOnce upon a time.\r\nThe end.\r\n" +
                     "End of Project Gutenberg's X\r\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\r\nLicense text";
        Assert.Equal("Once upon a time.\nThe end.\n", CorpusText.Clean(raw));
        Assert.Equal("No header here.\nSecond line.\n", CorpusText.Clean("No header here.\rSecond line.\r\n\r\n"));
    }

    [Fact]
    public void SplitHoldsOutTheTailOfEachBookAtAParagraphStart()
    {
        string book = string.Concat(Enumerable.Range(0, 100).Select(i => $"Paragraph {i} has some words in it.\n\n"));
        var corpus = CorpusText.FromTexts([("a", book), ("b", book)]);
        foreach (var part in corpus.Books)
        {
            Assert.Equal(CorpusText.Clean(book), part.Train + part.Validation);
            Assert.StartsWith("Paragraph 9", part.Validation);
            Assert.EndsWith(".\n\n", part.Train);
            Assert.InRange(part.Validation.Length / (double)book.Length, 0.03, 0.06);
        }
        var again = CorpusText.FromTexts([("a", book), ("b", book)]);
        Assert.Equal(corpus.Books[0].Validation, again.Books[0].Validation);
    }

    [Fact]
    public void LoadReadsNamedBooksFromAFolder()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "one.txt"), "First book.\r\n\r\nMore.\r\n");
        File.WriteAllText(Path.Combine(dir.Path, "two.txt"), "Second book.\n");
        var corpus = CorpusText.Load(dir.Path, validationFraction: 0);
        Assert.Equal(["one", "two"], corpus.Books.Select(b => b.Name));
        Assert.Equal("First book.\n\nMore.\n", corpus.Books[0].Train);
        Assert.Throws<FileNotFoundException>(() => CorpusText.Load(dir.Path, ["three"]));
        Assert.Throws<DirectoryNotFoundException>(() => CorpusText.Load(Path.Combine(dir.Path, "nope")));
    }

    [Fact]
    public void HeldOutBooksAreWhollyValidationAndNeverTrainingText()
    {
        string book = string.Concat(Enumerable.Range(0, 100).Select(i => $"Paragraph {i} has some words in it.\n\n"));
        var corpus = CorpusText.FromTexts([("a", book), ("b", "Another book entirely.\n\n" + book), ("c", book)], heldOutBooks: ["b"]);
        var held = Assert.Single(corpus.HeldOutBooks);
        Assert.Equal("b", held.Name);
        Assert.Equal(CorpusText.Clean("Another book entirely.\n\n" + book), held.Validation);
        Assert.Equal("", held.Train);
        Assert.DoesNotContain(corpus.TrainTexts, t => t.Contains("Another book"));
        Assert.Equal(2, corpus.TrainTexts.Count());

        var tokenizer = TrainingTestData.Tokenizer(corpus);
        var (train, validation) = corpus.Encode(tokenizer);
        Assert.DoesNotContain("Another", tokenizer.Decode(train));
        Assert.Contains("Another book entirely.", tokenizer.Decode(validation));

        Assert.Contains("Held-out book(s) z are not among the loaded books (a)",
            Assert.Throws<ArgumentException>(() => CorpusText.FromTexts([("a", book)], heldOutBooks: ["z"])).Message);
        Assert.Throws<ArgumentException>(() => CorpusText.FromTexts([("a", book)], heldOutBooks: ["a"]));
    }
}
