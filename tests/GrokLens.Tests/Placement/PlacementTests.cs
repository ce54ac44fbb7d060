using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Loading.Placement;
using GrokLens.Tests.Fixtures;

namespace GrokLens.Tests.Placement;

public class PlacementTests
{
    [Fact]
    public void StreamedFixtureMatchesTheReferenceAndReportsEveryLayer()
    {
        var reports = new List<LayerProgress>();
        using var streamed = ModelLoader.Load(TestModels.FixtureDirectory,
            new LoadOptions { StreamLayers = true, LayerProgress = new SynchronousProgress<LayerProgress>(reports.Add) });
        using var resident = ModelLoader.Load(TestModels.FixtureDirectory);
        Assert.Contains("streamed", streamed.Format);
        var tokens = FixtureReference.TokenIds();
        using var run = streamed.Run(tokens, new RunOptions { Capture = FixtureReference.HookNames() });
        FixtureReference.AssertMatches(name => run.Cache[name], tolerance: 1e-4);
        using var expected = resident.Run(tokens);
        Assert.True(run.Logits.equal(expected.Logits).all().item<bool>(), "streaming must equal the resident run");
        Assert.Equal([0, 1], reports.Select(r => r.Layer));
        Assert.All(reports, r => Assert.True(r.Bytes > 0));
    }

    [Fact]
    public void StreamedRandomCheckpointEqualsResidentOverSeveralPasses()
    {
        using var folder = new TempDirectory();
        var config = TestModels.SmallConfig() with { NumLayers = 3 };
        using (var model = TestModels.Random(config)) CheckpointWriter.Save(model, folder.Path);
        using var streamed = ModelLoader.Load(folder.Path, new LoadOptions { StreamLayers = true });
        using var resident = ModelLoader.Load(folder.Path);
        for (int pass = 0; pass < 3; pass++)
        {
            var tokens = Enumerable.Range(0, 5 + pass).Select(i => (i * 7 + pass) % config.VocabSize).ToArray();
            using var a = streamed.Run(tokens);
            using var b = resident.Run(tokens);
            Assert.True(a.Logits.equal(b.Logits).all().item<bool>(), $"pass {pass} differs");
        }
    }

    [Fact]
    public void CpuDeviceMapGivesIdenticalResults()
    {
        using var mapped = ModelLoader.Load(TestModels.FixtureDirectory, new LoadOptions { DeviceMap = "0:cpu,1:cpu" });
        using var plain = ModelLoader.Load(TestModels.FixtureDirectory);
        Assert.Contains("layers 0-1:cpu", mapped.Format);
        var tokens = FixtureReference.TokenIds();
        using var a = mapped.Run(tokens);
        using var b = plain.Run(tokens);
        Assert.True(a.Logits.equal(b.Logits).all().item<bool>());
    }

    [Fact]
    public void Int8NeedsAQuantisedCheckpoint()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelLoader.Load(TestModels.FixtureDirectory, new LoadOptions { Int8Weights = true }));
        Assert.Contains("int8", ex.Message);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests want the reports in order, at once.</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
