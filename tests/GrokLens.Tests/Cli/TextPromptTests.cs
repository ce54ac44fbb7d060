using GrokLens.Checkpoints;
using GrokLens.Generation;
using GrokLens.Loading;

namespace GrokLens.Tests.Cli;

/// <summary>--prompt with a tokenizer: a tiny random model with Grok-1's vocabulary, saved to a temporary folder.</summary>
public sealed class TextPromptTests(TextPromptTests.TokenizedModel model) : IClassFixture<TextPromptTests.TokenizedModel>
{
    /// <summary>Saved once for the class.</summary>
    public sealed class TokenizedModel : IDisposable
    {
        public TokenizedModel()
        {
            var config = TestModels.SmallConfig(vocab: 131072) with { HiddenSize = 16, NumLayers = 1, HeadDim = 4, ExpertSize = 8 };
            using var random = TestModels.Random(config, seed: 3);
            CheckpointWriter.Save(random, directory.Path);
        }

        private readonly TempDirectory directory = new();

        public string Path => directory.Path;

        public void Dispose() => directory.Dispose();
    }

    private readonly string folder = model.Path;

    [Fact]
    public void GenerateStreamsTheDecodedContinuation()
    {
        var result = CliOutput.Run("generate", "-m", folder, "--prompt", "The capital of France is", "--temperature", "0", "-n", "6");
        Assert.True(result.ExitCode == 0, result.ToString());

        using var loaded = ModelLoader.Load(folder);
        Assert.NotNull(loaded.Tokenizer);
        var prompt = loaded.Encode("The capital of France is");
        var ids = TextGenerator.Generate(loaded, prompt, SamplingOptions.Greedy(6)).Select(t => t.Id).ToList();
        var full = loaded.Tokenizer!.Decode([.. prompt, .. ids]);
        var continuation = full[loaded.Tokenizer.Decode(prompt).Length..];
        Assert.Equal(continuation + Environment.NewLine, result.Out);
    }

    [Fact]
    public void CaptureRecordsThePromptAndItsTokens()
    {
        var path = System.IO.Path.Combine(folder, $"capture-{Guid.NewGuid():N}.safetensors");
        var result = CliOutput.Run("capture", "-m", folder, "--prompt", "Hello world", "--hooks", "hook_embed", "-o", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var loaded = ModelLoader.Load(folder);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(string.Join(",", loaded.Encode("Hello world")), file.Metadata["token_ids"]);
        Assert.Equal("Hello world", file.Metadata["prompt"]);
    }

    [Fact]
    public void EmptyPromptIsRefused()
    {
        var result = CliOutput.Run("generate", "-m", folder, "--prompt", "");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("prompt is empty", result.Error);
    }

    [Fact]
    public void InfoNamesTheTokenizer()
    {
        var result = CliOutput.Run("info", "-m", folder);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("vocab 131,072", result.Out);
    }
}
