using GrokLens.Checkpoints;
using GrokLens.Loading;

namespace GrokLens.Tests.Fixtures;

/// <summary>A checkpoint that does not fit its config is refused with an error naming the file and the tensor.</summary>
public class ModelLoadingErrorTests
{
    private static TempDirectory CopyOfFixtureWith(Func<string, Tensor, (string Name, Tensor Tensor)?> edit)
    {
        var folder = new TempDirectory();
        File.Copy(Path.Combine(TestModels.FixtureDirectory, "config.json"), Path.Combine(folder.Path, "config.json"));
        using var source = SafetensorsFile.Open(Path.Combine(TestModels.FixtureDirectory, "model.safetensors"));
        var tensors = source.Names.Select(name => edit(name, source.Load(name))).OfType<(string, Tensor)>().ToList();
        SafetensorsWriter.Write(Path.Combine(folder.Path, "model.safetensors"), tensors);
        foreach (var (_, tensor) in tensors) tensor.Dispose();
        return folder;
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        const string missing = "transformer.decoder_layer.1.router.weight";
        using var folder = CopyOfFixtureWith((name, t) => name == missing ? null : (name, t));
        var error = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(folder.Path));
        Assert.Contains(missing, error.Message);
        Assert.Contains("missing", error.Message);
        Assert.Contains("model.safetensors", error.Message);
    }

    [Fact]
    public void MissingExpertIsNamed()
    {
        const string missing = "transformer.decoder_layer.0.moe.5.linear_v.weight";
        using var folder = CopyOfFixtureWith((name, t) => name == missing ? null : (name, t));
        var error = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(folder.Path));
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void WrongShapeIsNamedWithBothShapes()
    {
        const string wrong = "transformer.decoder_layer.0.multi_head_attention.key.weight";
        using var folder = CopyOfFixtureWith((name, t) => name == wrong ? (name, t.narrow(0, 0, 16).contiguous()) : (name, t));
        var error = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(folder.Path));
        Assert.Contains(wrong, error.Message);
        Assert.Contains("[16, 64]", error.Message);
        Assert.Contains("[32, 64]", error.Message);
    }

    [Fact]
    public void TensorsTheConfigDoesNotExplainAreReported()
    {
        using var folder = CopyOfFixtureWith((name, t) => (name, t));
        var config = File.ReadAllText(Path.Combine(folder.Path, "config.json")).Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1");
        File.WriteAllText(Path.Combine(folder.Path, "config.json"), config);
        var error = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(folder.Path));
        Assert.Contains("decoder_layer.1", error.Message);
        Assert.Contains("config", error.Message);
    }

    [Fact]
    public void MissingFolderAndConfigAreClearErrors()
    {
        Assert.Throws<DirectoryNotFoundException>(() => ModelLoader.Load("/nonexistent/model"));
        using var folder = new TempDirectory();
        var error = Assert.Throws<FileNotFoundException>(() => ModelLoader.Load(folder.Path));
        Assert.Contains("config.json", error.Message);
    }

    [Fact]
    public void TruncatedWeightsFileIsRefused()
    {
        using var folder = CopyOfFixtureWith((name, t) => (name, t));
        var weights = Path.Combine(folder.Path, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(folder.Path));
        Assert.Contains("model.safetensors", error.Message);
    }
}
