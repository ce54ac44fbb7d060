using GrokLens.Tests.Kernels;
using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Tests.Checkpoints.Gguf;
using GrokLens.Tests.Cli;

namespace GrokLens.Tests.Fixtures;

/// <summary>The grok2-mini reference (residual MoE, router cap, final cap, untied head), through every format.</summary>
public class Grok2FixtureTests
{
    private static string Fixture => TestModels.Grok2FixtureDirectory;
    private static string Ids => string.Join(",", FixtureReference.TokenIds(Fixture));

    [Fact]
    public void SafetensorsMatchesEveryReferenceTensor()
    {
        using var model = ModelLoader.Load(Fixture);
        Assert.Equal("Grok-2", model.Config.Architecture);
        Assert.Contains("model.layers (Grok-2) names", model.Format);
        AssertMatchesReference(model);
    }

    [Fact]
    public void GgufMatchesEveryReferenceTensor()
    {
        using var model = ModelLoader.Load(Path.Combine(Fixture, "model.gguf"));
        Assert.Equal("Grok-2", model.Config.Architecture);
        Assert.False(model.Config.TieWordEmbeddings);
        AssertMatchesReference(model);
    }

    [Fact]
    public void CaptureCommandMatchesTheReferenceFromSafetensorsGgufAndAPreshardedCopy()
    {
        using var folder = new TempDirectory();
        var presharded = Path.Combine(folder.Path, "presharded");
        PreshardedTestWriter.Write(Fixture, presharded, ranks: 8);
        foreach (var model in new[] { Fixture, Path.Combine(Fixture, "model.gguf"), presharded })
        {
            var path = Path.Combine(folder.Path, Path.GetFileName(model) + ".safetensors");
            var result = CliOutput.Run("capture", "--model", model, "--token-ids", Ids, "--hooks", "*", "--out", path);
            Assert.True(result.ExitCode == 0, result.ToString());
            using var file = SafetensorsFile.Open(path);
            var loaded = new Dictionary<string, Tensor>();
            try
            {
                FixtureReference.AssertMatches(name => loaded.TryGetValue(name, out var t) ? t : loaded[name] = file.Load(name), 1e-4,
                    fixture: Fixture);
            }
            finally
            {
                foreach (var tensor in loaded.Values) tensor.Dispose();
            }
            // 30 hooks per Grok-2 layer plus embed, final norm, uncapped and capped logits; the fixture's GGUF has no
            // grok.attention.temperature_length (llama.cpp's default 0: no temperature), so it lacks the tempered-scores hook.
            bool gguf = model.EndsWith(".gguf", StringComparison.Ordinal);
            Assert.Equal(2 * (gguf ? 29 : 30) + 4, file.Names.Count);
        }
    }

    [Fact]
    public void PreshardedCopyLoadsEqualToThePlainLayoutOneJoinedTensorAtATime()
    {
        using var folder = new TempDirectory();
        PreshardedTestWriter.Write(Fixture, folder.Path, ranks: 8);
        Assert.Equal(9, Directory.GetFiles(folder.Path, "*-TP-*.safetensors").Length);
        using var plain = ModelLoader.Load(Fixture);
        using var sharded = ModelLoader.Load(folder.Path);
        Assert.Contains("experts pre-sharded over 8 ranks", sharded.Format);
        foreach (var ((id, a), (_, b)) in plain.Model.Weights.Zip(sharded.Model.Weights))
            Assert.True(a.equal(b).all().item<bool>(), $"{id} differs");
        using var checkpoint = PreshardedCheckpoint.Open(folder.Path);
        var w2 = checkpoint.Info("model.layers.1.block_sparse_moe.experts.3.w2.weight");
        Assert.Equal([plain.Config.HiddenSize, plain.Config.ExpertSize], w2.Shape);
    }

    [Fact]
    public void Int8GgufOfGrok2IsCloseToItsDequantisedRun()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "grok2-q8.gguf");
        // Q8_0 needs widths that are multiples of 32: the fixture's config with experts of 64.
        var config = GrokLens.Model.GrokConfig.FromJsonFile(Path.Combine(Fixture, "config.json")) with { ExpertSize = 64 };
        using (var original = TestModels.Random(config))
            GgufTestWriter.Write(original, path, GgmlType.Q8_0);
        using var resident = ModelLoader.Load(path);
        using var int8 = ModelLoader.Load(path, new LoadOptions { Int8Weights = true });
        using var streamed = ModelLoader.Load(path, new LoadOptions { StreamLayers = true });
        Assert.Equal("Grok-2", int8.Config.Architecture);
        var tokens = FixtureReference.TokenIds(Fixture);
        Assert.Contains("int8", int8.Quantisation);
        using var a = resident.Run(tokens, RunOptions.CaptureOnly("*"));
        using var b = int8.Run(tokens, RunOptions.CaptureOnly("*"));
        using var c = streamed.Run(tokens, RunOptions.CaptureOnly("*"));
        foreach (var name in a.Cache.Names)
        {
            KernelTolerance.AssertClose(a.Cache[name], b.Cache[name], $"int8 {name}");
            Assert.True(b.Cache[name].equal(c.Cache[name]).all().item<bool>(), $"streamed {name} differs from int8");
        }
    }

    internal static void AssertMatchesReference(LoadedModel model)
    {
        using var run = model.Run(FixtureReference.TokenIds(Fixture), new RunOptions { Capture = FixtureReference.HookNames(Fixture) });
        FixtureReference.AssertMatches(name => run.Cache[name], tolerance: 1e-4, fixture: Fixture);
    }
}
