using GrokLens.Loading;
using GrokLens.Model;

namespace GrokLens.Tests.Model;

public class GrokConfigTests
{
    [Fact]
    public void Grok1PresetBuildsOnTheMetaDeviceWithSpecParameterCount()
    {
        var config = GrokConfig.Grok1;
        // SPEC §1: 315,684,820,992 parameters, tied embedding counted once; ≈83.76 B active per token.
        Assert.Equal(315_684_820_992L, config.ParameterCount);
        Assert.InRange(config.ActiveParameterCount, 83_700_000_000L, 83_800_000_000L);

        using var model = new GrokModel(config, new MetaWeightSource());
        long counted = model.parameters().Sum(p => p.numel());
        Assert.Equal(config.ParameterCount, counted);
        Assert.All(model.parameters(), p => Assert.Equal(TorchSharp.DeviceType.META, p.device.type));
        Assert.Equal(2 + 12 * 64, model.Weights.Count);
        Assert.Equal([48L * 128, 6144], model.Weights.Single(w => w.Id.ToString() == "transformer.decoder_layer.63.multi_head_attention.query.weight").Parameter.shape);
    }

    [Fact]
    public void Grok2PresetBuildsOnTheMetaDeviceWithSpecParameterCount()
    {
        var config = GrokConfig.Grok2;
        // SPEC §6.1: 269,515,497,472 parameters with the untied embedding and head and the dense MLP of every layer.
        Assert.Equal(269_515_497_472L, config.ParameterCount);
        using var model = new GrokModel(config, new MetaWeightSource());
        Assert.Equal(config.ParameterCount, model.parameters().Sum(p => p.numel()));
        Assert.Equal(3 + 15 * 64, model.Weights.Count);
        Assert.Equal([32768L, 8192], model.Weights.Single(w => w.Id == new WeightId(WeightKind.DenseUp, 63)).Parameter.shape);
        Assert.Equal(config.ParameterCount, GrokModel.Inventory(config).Sum(w => w.Shape.Aggregate(1L, (a, b) => a * b)));
    }

    [Fact]
    public void Grok2FixtureConfigReadsTheGrok2Keys()
    {
        var config = GrokConfig.FromJsonFile(Path.Combine(TestModels.Grok2FixtureDirectory, "config.json"));
        Assert.True(config.ResidualMoe);
        Assert.Equal(96, config.DenseSize);
        Assert.Equal(48, config.ExpertSize);
        Assert.Equal(30.0, config.RouterLogitSoftcap);
        Assert.Equal(50.0, config.FinalLogitSoftcap);
        Assert.Equal(1024, config.AttnTemperatureLen);
        Assert.False(config.TieWordEmbeddings);
        // No attn_output_multiplier key: derived from the model's own head size, 16^-½, not Grok-1's 128^-½.
        Assert.Equal(0.25, config.AttnOutputMultiplier);
        Assert.Equal("Grok-2", config.Architecture);
        Assert.Equal(config, GrokConfig.FromJson(config.ToJson()));
    }

    [Fact]
    public void MissingMultipliersFollowTheModelsOwnSizes()
    {
        var json = """{"vocab_size": 10, "hidden_size": 256, "num_hidden_layers": 1, "num_attention_heads": 8, "num_key_value_heads": 2, "head_dim": 32, "num_local_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 64}""";
        var config = GrokConfig.FromJson(json);
        Assert.Equal(16.0, config.EmbeddingMultiplier);
        Assert.Equal(1 / Math.Sqrt(32), config.AttnOutputMultiplier);
    }

    [Theory]
    [InlineData("\"num_hidden_layers\": 2147483647", "num_hidden_layers 2147483647 is beyond")]
    [InlineData("\"moe_intermediate_size\": 2147483647", "moe_intermediate_size 2147483647 is beyond")]
    [InlineData("\"model_type\": 5", "\"model_type\" must be a string, got 5")]
    [InlineData("\"tie_word_embeddings\": \"yes\"", "\"tie_word_embeddings\" must be true or false, got \"yes\"")]
    [InlineData("\"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2}", "RoPE scaling \"dynamic\" is not supported")]
    [InlineData("\"sliding_window_size\": 4096", "sliding_window_size 4096 is not supported")]
    public void HostileOrUnfaithfulConfigsGetAClearMessage(string entry, string expected)
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse("""{"vocab_size": 10, "hidden_size": 64, "num_attention_heads": 4, "num_local_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 64, "num_hidden_layers": 1}""")!.AsObject();
        foreach (var (key, value) in System.Text.Json.Nodes.JsonNode.Parse("{" + entry + "}")!.AsObject().ToList())
            config[key] = value?.DeepClone();
        var json = config.ToJsonString();
        var error = Assert.ThrowsAny<Exception>(() => GrokConfig.FromJson(json));
        Assert.True(error is FormatException or ArgumentException, error.GetType().Name);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AConfigLinkedToAnEndlessFileIsRefusedAfterAMegabyte()
    {
        using var folder = new TempDirectory();
        var link = Path.Combine(folder.Path, "config.json");
        File.CreateSymbolicLink(link, "/dev/zero");
        var error = Assert.Throws<InvalidDataException>(() => GrokConfig.FromJsonFile(link));
        Assert.Contains("larger than 1024 KB", error.Message);
    }

    [Fact]
    public void FixtureConfigReadsEveryKey()
    {
        var config = GrokConfig.FromJsonFile(Path.Combine(TestModels.FixtureDirectory, "config.json"));
        Assert.Equal(512, config.VocabSize);
        Assert.Equal(64, config.HiddenSize);
        Assert.Equal(2, config.NumLayers);
        Assert.Equal(4, config.NumHeads);
        Assert.Equal(2, config.NumKvHeads);
        Assert.Equal(16, config.HeadDim);
        Assert.Equal(8, config.NumExperts);
        Assert.Equal(2, config.TopK);
        Assert.Equal(96, config.ExpertSize);
        Assert.Equal(78.38367176906169, config.EmbeddingMultiplier);
        Assert.Equal(0.5773502691896257, config.OutputMultiplier);
        Assert.Equal(30.0, config.AttnLogitSoftcap);
    }

    [Fact]
    public void ConfigRoundTripsThroughJson()
    {
        var config = TestModels.SmallConfig();
        Assert.Equal(config, GrokConfig.FromJson(config.ToJson()));
    }

    [Theory]
    [InlineData("{\"hidden_size\": 64}", "vocab_size")]
    [InlineData("{\"vocab_size\": 10, \"hidden_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 3, \"num_key_value_heads\": 2, \"num_local_experts\": 8, \"num_experts_per_tok\": 2, \"moe_intermediate_size\": 8}", "multiple")]
    [InlineData("{\"vocab_size\": \"many\"}", "vocab_size")]
    [InlineData("[1, 2]", "object")]
    public void BadConfigsAreRejectedWithTheReason(string json, string expectedInMessage)
    {
        var error = Assert.ThrowsAny<Exception>(() => GrokConfig.FromJson(json));
        Assert.Contains(expectedInMessage, error.Message);
    }
}
