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
        Assert.True(new FileInfo(Path.Combine(Folder, "model.safetensors")).Length < 25_000_000);
        using var file = SafetensorsFile.Open(Path.Combine(Folder, "model.safetensors"));
        Assert.All(file.Names, name => Assert.Equal(SafetensorsDType.BF16, file.Info(name).DType));

        const string text = "Alice said, “Café crème?” 🙂";
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        var pieces = tokenizer.EncodeWithPieces("Once upon a time");
        Assert.Equal(["▁Once", "▁upon", "▁a", "▁time"], pieces.Select(p => p.Piece));
    }

    [Fact]
    public void ItPredictsChildrensStoryTextFarBetterThanChance()
    {
        using var model = ModelLoader.Load(Folder);
        var ids = model.Encode("Once upon a time there was a little rabbit who lived in the Green Meadows with his mother.");
        double loss = Evaluator.ValidationLoss(model.Model, ids, ids.Count - 1);
        Assert.True(loss < 0.6 * Math.Log(model.Config.VocabSize), $"loss {loss:F3} nats/token vs uniform {Math.Log(model.Config.VocabSize):F3}");
    }
}
