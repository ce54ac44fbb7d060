using GrokLens.Engine;
using GrokLens.Loading;

namespace GrokLens.Tests.Fixtures;

/// <summary>The grok2-mini reference (residual MoE, router cap, final cap, untied head), through every format.</summary>
public class Grok2FixtureTests
{
    private static string Fixture => TestModels.Grok2FixtureDirectory;

    [Fact]
    public void SafetensorsMatchesEveryReferenceTensor()
    {
        using var model = ModelLoader.Load(Fixture);
        Assert.Equal("Grok-2", model.Config.Architecture);
        AssertMatchesReference(model);
    }

    [Fact]
    public void GgufMatchesEveryReferenceTensor()
    {
        using var model = ModelLoader.Load(Path.Combine(Fixture, "model.gguf"));
        Assert.Equal("Grok-2", model.Config.Architecture);
        AssertMatchesReference(model);
    }

    internal static void AssertMatchesReference(LoadedModel model)
    {
        using var run = model.Run(FixtureReference.TokenIds(Fixture), new RunOptions { Capture = FixtureReference.HookNames(Fixture) });
        FixtureReference.AssertMatches(name => run.Cache[name], tolerance: 1e-4, fixture: Fixture);
    }
}
