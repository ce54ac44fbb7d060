using GrokLens.Analysis;
using GrokLens.Checkpoints;
using GrokLens.Loading;
using GrokLens.Training;

namespace GrokLens.Tests.Training;

/// <summary>The embedded default model in models/grok-tiny: what its README promises.</summary>
public class ShippedModelTests
{
    private static string Folder => Path.Combine(TestModels.RepositoryRoot(), "models", "grok-tiny");

    [Fact]
    public void ItIsGrokTinyInBf16UnderTheSizeLimitWithAMappedGrokTokenizer()
    {
        using var model = ModelLoader.Load(Folder);
        var tokenizer = Assert.IsType<CompactTokenizer>(model.Tokenizer);
        Assert.Equal(GrokTinyConfig.Create(tokenizer.VocabSize).ToJson(), model.Config.ToJson());
        Assert.Equal(8000, tokenizer.VocabSize);
        Assert.Equal(CompactEncoding.RestrictedMerges, tokenizer.Vocabulary.Encoding);
        Assert.True(new FileInfo(Path.Combine(Folder, "model.safetensors")).Length < 25_000_000);
        using var file = SafetensorsFile.Open(Path.Combine(Folder, "model.safetensors"));
        Assert.All(file.Names, name => Assert.Equal(SafetensorsDType.BF16, file.Info(name).DType));

        const string text = "Alice said, “Café crème?” 🙂";
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        // "▁Once" is rare in the training books and was pruned: it splits into the pieces it was merged from.
        var pieces = tokenizer.EncodeWithPieces("Once upon a time");
        Assert.Equal(["▁On", "ce", "▁upon", "▁a", "▁time"], pieces.Select(p => p.Piece));
    }

    [Fact]
    public void OrdinaryEnglishNeverFallsBackToBytes()
    {
        using var model = ModelLoader.Load(Folder);
        var tokenizer = Assert.IsType<CompactTokenizer>(model.Tokenizer);
        const string text = "The quick brown fox jumps over the lazy dog. Meanwhile, an extraordinarily unhappy xylophonist " +
                            "reconsidered her grandmother's misunderstanding; \"Nevertheless,\" she whispered, \"it's 1,234 miles away!\"";
        var encoded = tokenizer.EncodeWithPieces(text);
        Assert.True(!encoded.Any(p => tokenizer.IsByte(p.Id)), string.Join("|", encoded.Select(p => p.Piece)));
        Assert.Equal(text, tokenizer.Decode(encoded.Select(p => p.Id)));
        Assert.Equal(["▁The", "▁dog"], tokenizer.EncodeWithPieces("The dog").Select(p => p.Piece));
    }

    [Fact]
    public void ItPredictsChildrensStoryTextFarBetterThanChance()
    {
        using var model = ModelLoader.Load(Folder);
        var ids = model.Encode("Once upon a time there was a little rabbit who lived in the Green Meadows with his mother.");
        double loss = Evaluator.ValidationLoss(model.Model, ids, ids.Count - 1);
        Assert.True(loss < 0.6 * Math.Log(model.Config.VocabSize), $"loss {loss:F3} nats/token vs uniform {Math.Log(model.Config.VocabSize):F3}");
    }

    [Fact]
    public void ItsRoutingHistoryEndsWithThisModelsRouting()
    {
        var history = RoutingHistory.Load(Path.Combine(Folder, "routing-history"));
        Assert.InRange(history.Steps.Count, 10, 20);
        Assert.Equal(0, history.Steps[0].Step);
        int lastLoggedStep = TrainingLog.Read(Path.Combine(Folder, TrainingLog.FileName)).Max(r => r.Step);
        Assert.Equal(lastLoggedStep, history.Steps[^1].Step);

        // The last record was taken from the float32 weights; the shipped BF16 weights route almost every token the same way.
        using var model = ModelLoader.Load(Folder);
        var shipped = RoutingRecord.Capture(model.Model, history.Windows, history.Steps[^1].Step);
        var final = history.ReadFinal();
        var initial = history.Read(0);
        for (int layer = 0; layer < history.Layers; layer++)
        {
            Assert.InRange(shipped.Agreement(final, layer).TopK, 0.95, 1.0);
            Assert.True(initial.Agreement(final, layer).TopK < 0.8, $"layer {layer}: the initial router already agrees with the final one");
        }
    }

    [CorpusFact]
    public void ItsVocabularyWasBuiltWithoutTheHeldOutBooksAndEncodesThemAlmostWithoutBytes()
    {
        var corpus = CorpusText.Load(CorpusFactAttribute.Folder, heldOutBooks: GrokLens.Cli.Commands.TrainCommand.DefaultHeldOutBooks);
        Assert.Equal(18, corpus.Books.Count);
        var tokenizer = CompactTokenizer.Load(Folder);
        foreach (var book in corpus.HeldOutBooks)
        {
            var ids = tokenizer.Encode(book.Validation);
            double byteShare = ids.Count(tokenizer.IsByte) / (double)ids.Count;
            Assert.True(byteShare < 0.0005, $"{book.Name}: {byteShare:P3} byte tokens");
            Assert.Equal(book.Validation, tokenizer.Decode(ids));
        }
        // The vocabulary is the one pruning the training text gives: no piece came from the held-out books.
        var rebuilt = CompactVocabulary.BuildWithSize(TrainingTestData.Grok, corpus.TrainTexts.ToList(), tokenizer.VocabSize);
        Assert.Equal(rebuilt.GrokIds, tokenizer.Vocabulary.GrokIds);
    }
}
