using System.Text.Json.Nodes;
using GrokLens.Checkpoints;
using GrokLens.Loading;

namespace GrokLens.Tests.Fixtures;

/// <summary>A Grok-2 checkpoint that does not fit its config, or a config GrokLens cannot run faithfully, is refused clearly.</summary>
public class Grok2MisconfigurationTests
{
    private static TempDirectory CopyOfFixture(Func<string, Tensor, (string Name, Tensor Tensor)?>? edit = null,
        Action<JsonObject>? editConfig = null)
    {
        var folder = new TempDirectory();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(TestModels.Grok2FixtureDirectory, "config.json")))!.AsObject();
        editConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(folder.Path, "config.json"), config.ToJsonString());
        using var source = SafetensorsFile.Open(Path.Combine(TestModels.Grok2FixtureDirectory, "model.safetensors"));
        var tensors = source.Names.Select(name => (edit ?? ((n, t) => (n, t)))(name, source.Load(name))).OfType<(string, Tensor)>().ToList();
        SafetensorsWriter.Write(Path.Combine(folder.Path, "model.safetensors"), tensors);
        foreach (var (_, tensor) in tensors) tensor.Dispose();
        return folder;
    }

    [Fact]
    public void AMissingDenseMlpIsNamed()
    {
        const string missing = "model.layers.1.mlp.up_proj.weight";
        using var folder = CopyOfFixture((name, t) => name == missing ? null : (name, t));
        var error = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(folder.Path));
        Assert.Contains(missing, error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Theory]
    [InlineData("yarn")]
    [InlineData("linear")]
    public void ARopeTypeOtherThanOriginalIsRefused(string ropeType)
    {
        using var folder = CopyOfFixture(editConfig: c => c["rope_type"] = ropeType);
        var error = Assert.Throws<InvalidDataException>(() => ModelLoader.Load(folder.Path));
        Assert.Contains($"RoPE scaling \"{ropeType}\" is not supported", error.Message);
        Assert.Contains("original", error.Message);
    }

    [Fact]
    public void TheOriginalRopeTypeOfGrok2sConfigRunsPlainRope()
    {
        using var folder = CopyOfFixture(editConfig: c =>
        {
            c["rope_type"] = "original";
            c["scaling_factor"] = 16.0;
            c["original_max_position_embeddings"] = 8192;
        });
        using var model = ModelLoader.Load(folder.Path);
        Grok2FixtureTests.AssertMatchesReference(model);
    }

    [Fact]
    public void AnExtraTensorIsRefusedResidentAndStreamed()
    {
        using var folder = CopyOfFixture();
        using (var source = SafetensorsFile.Open(Path.Combine(TestModels.Grok2FixtureDirectory, "model.safetensors")))
        {
            var tensors = source.Names.Select(n => (n, source.Load(n))).Append(("model.layers.0.self_attn.q_norm.weight", torch.ones(16))).ToList();
            SafetensorsWriter.Write(Path.Combine(folder.Path, "model.safetensors"), tensors, overwrite: true);
            foreach (var (_, tensor) in tensors) tensor.Dispose();
        }
        foreach (var options in new[] { new LoadOptions(), new LoadOptions { StreamLayers = true } })
        {
            var error = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(folder.Path, options));
            Assert.Contains("model.layers.0.self_attn.q_norm.weight", error.Message);
            Assert.Contains("not used by the model", error.Message);
        }
    }

    [Fact]
    public void AGrok2CheckpointReadWithAGrok1ConfigSaysToSetResidualMoe()
    {
        using var folder = CopyOfFixture(editConfig: c =>
        {
            c.Remove("residual_moe");
            c["intermediate_size"] = 48;
        });
        var error = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(folder.Path, new LoadOptions { StreamLayers = true }));
        Assert.Contains("mlp", error.Message);
        Assert.Contains("\"residual_moe\": true", error.Message);
    }

    [Fact]
    public void AGrok2ConfigWithoutItsOutputMultiplierIsRefused()
    {
        using var folder = CopyOfFixture(editConfig: c => c.Remove("output_multiplier_scale"));
        var error = Assert.Throws<InvalidDataException>(() => ModelLoader.Load(folder.Path));
        Assert.Contains("output_multiplier_scale", error.Message);
    }
}
