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
