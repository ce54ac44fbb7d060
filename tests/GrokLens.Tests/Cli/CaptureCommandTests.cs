using GrokLens.Checkpoints;
using GrokLens.Tests.Fixtures;

namespace GrokLens.Tests.Cli;

public class CaptureCommandTests
{
    private static string Ids => string.Join(",", FixtureReference.TokenIds());

    [Fact]
    public void CapturingEverythingMatchesTheReference()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "all.safetensors");
        var result = CliOutput.Run("capture", "--model", TestModels.FixtureDirectory, "--token-ids", Ids, "--hooks", "*", "--out", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(path, result.Out);
        Assert.Equal("", result.Error);

        using var file = SafetensorsFile.Open(path);
        var loaded = new Dictionary<string, Tensor>();
        try
        {
            FixtureReference.AssertMatches(name => loaded.TryGetValue(name, out var t) ? t : loaded[name] = file.Load(name), 1e-4);
        }
        finally
        {
            foreach (var tensor in loaded.Values) tensor.Dispose();
        }
        Assert.Equal(51, file.Names.Count);
        foreach (var name in file.Names)
        {
            var expected = name.EndsWith("moe.hook_topk_indices", StringComparison.Ordinal) ? SafetensorsDType.I32 : SafetensorsDType.F32;
            Assert.Equal(expected, file.Info(name).DType);
        }
        Assert.Equal(Ids, file.Metadata["token_ids"]);
        Assert.Equal("grok1-mini", file.Metadata["model"]);
        Assert.Equal("51", file.Metadata["hooks"]);
        Assert.Equal(GrokLensInfo.Version, file.Metadata["groklens_version"]);
    }

    [Fact]
    public void APatternSubsetWritesExactlyThoseHooks()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "some.safetensors");
        var result = CliOutput.Run("capture", "-m", TestModels.FixtureDirectory, "-t", "5,6,7",
            "--hooks", "blocks.*.hook_resid_post, blocks.{0,1}.moe.hook_topk_indices,logits", "-o", path);
        Assert.True(result.ExitCode == 0, result.ToString());

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(
            ["blocks.0.hook_resid_post", "blocks.0.moe.hook_topk_indices", "blocks.1.hook_resid_post",
             "blocks.1.moe.hook_topk_indices", "logits"],
            file.Names.Order(StringComparer.Ordinal));
        Assert.Equal([3L, 64L], file.Info("blocks.1.hook_resid_post").Shape);
        Assert.Equal([3L, 2L], file.Info("blocks.0.moe.hook_topk_indices").Shape);
        Assert.Equal([3L, 512L], file.Info("logits").Shape);
        Assert.Equal("5,6,7", file.Metadata["token_ids"]);
    }

    [Fact]
    public void AnExistingFileIsKeptUnlessOverwriteIsGiven()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "out.safetensors");
        File.WriteAllText(path, "keep me");
        string[] args = ["capture", "-m", TestModels.FixtureDirectory, "-t", "1,2", "--hooks", "logits", "-o", path];

        var refused = CliOutput.Run(args);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("already exists", refused.Error);
        Assert.Contains("--overwrite", refused.Error);
        Assert.Equal("keep me", File.ReadAllText(path));

        var replaced = CliOutput.Run([.. args, "--overwrite"]);
        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["logits"], file.Names);
    }
}
