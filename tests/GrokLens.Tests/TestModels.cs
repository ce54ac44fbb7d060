using GrokLens.Loading;
using GrokLens.Model;

namespace GrokLens.Tests;

/// <summary>Small models built in the tests.</summary>
internal static class TestModels
{
    /// <summary>A random Grok-architecture model: 2 layers, GQA 4/2 heads, 8 experts top-2.</summary>
    public static GrokConfig SmallConfig(int vocab = 97, int maxPositions = 64) => new()
    {
        VocabSize = vocab,
        HiddenSize = 32,
        NumLayers = 2,
        NumHeads = 4,
        NumKvHeads = 2,
        HeadDim = 8,
        NumExperts = 8,
        TopK = 2,
        ExpertSize = 48,
        MaxPositions = maxPositions,
        EmbeddingMultiplier = Math.Sqrt(32),
        AttnOutputMultiplier = 1 / Math.Sqrt(8),
    };

    public static GrokModel Random(GrokConfig? config = null, long seed = 7) =>
        new(config ?? SmallConfig(), new RandomWeightSource(seed));

    /// <summary><see cref="Random"/> wrapped for the engine API (no tokenizer: token ids only).</summary>
    public static GrokLens.Engine.LoadedModel RandomLoaded(GrokConfig? config = null) =>
        new("random", Random(config), tokenizer: null, source: "random", format: "random");

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrokLens.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("GrokLens.sln not found above " + AppContext.BaseDirectory);
    }

    public static string FixtureDirectory => Path.Combine(RepositoryRoot(), "tests", "fixtures", "grok1-mini");

    /// <summary>The Grok-2-architecture reference fixture (residual MoE, router and final soft-caps, untied head).</summary>
    public static string Grok2FixtureDirectory => Path.Combine(RepositoryRoot(), "tests", "fixtures", "grok2-mini");
}
