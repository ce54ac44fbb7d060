using System.Text.RegularExpressions;
using GrokLens.Generation;
using GrokLens.Loading;
using GrokLens.Tests.Fixtures;

namespace GrokLens.Tests.Cli;

public class OtherCommandTests
{
    [Fact]
    public void GreedyGenerationPrintsTheSameIdsAsTextGenerator()
    {
        var prompt = FixtureReference.TokenIds();
        var result = CliOutput.Run("generate", "--model", TestModels.FixtureDirectory,
            "--token-ids", string.Join(",", prompt), "--temperature", "0", "--max-tokens", "12");
        Assert.True(result.ExitCode == 0, result.ToString());

        using var model = ModelLoader.Load(TestModels.FixtureDirectory);
        var expected = TextGenerator.Generate(model, prompt, SamplingOptions.Greedy(12)).Select(t => t.Id).ToList();
        var printed = result.Out.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToList();
        Assert.Equal(expected, printed);
        Assert.Contains("tokens/s", result.Error);
    }

    [Fact]
    public void SampledGenerationIsReproducibleFromTheSeed()
    {
        string[] args = ["generate", "-m", TestModels.FixtureDirectory, "-t", "1,2,3", "--seed", "7", "--top-k", "20", "-n", "8"];
        var first = CliOutput.Run(args);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(first.Out, CliOutput.Run(args).Out);
        Assert.Equal(8, first.Out.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void InfoPrintsTheFixturesSizes()
    {
        var result = CliOutput.Run("info", "--model", TestModels.FixtureDirectory);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var model = ModelLoader.Load(TestModels.FixtureDirectory);
        long parameters = model.Model.Weights.Sum(w => w.Parameter.NumberOfElements);
        Assert.Equal(model.Config.ParameterCount, parameters);
        Assert.Contains(parameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " total", result.Out);
        Assert.Contains("none: token ids only", result.Out);
        Assert.Contains("51 hook points", result.Out);
        Assert.Matches(new Regex(@"ExpertSize\s+96"), result.Out);
    }

    [Fact]
    public void InfoOfTheGrok1PresetCountsItsParameters()
    {
        var result = CliOutput.Run("info", "--preset", "grok-1");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("315,684,820,992 total", result.Out);
        Assert.Contains("meta", result.Out);
        Assert.Matches(new Regex(@"NumLayers\s+64"), result.Out);
    }

    [Fact]
    public void InfoAndHooksOfTheGrok2PresetShowItsArchitecture()
    {
        var info = CliOutput.Run("info", "--preset", "grok-2");
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains("269,515,497,472 total", info.Out);
        Assert.Contains("Arch:       Grok-2", info.Out);
        Assert.Matches(new Regex(@"DenseSize\s+32768"), info.Out);
        var hooks = CliOutput.Run("hooks", "--preset", "grok-2", "--pattern", "blocks.63.*");
        Assert.True(hooks.ExitCode == 0, hooks.ToString());
        Assert.Contains("blocks.63.hook_mlp_out", hooks.Out);
        Assert.Contains("blocks.63.moe.hook_router_logits_capped", hooks.Out);
        Assert.Contains("30 hook points", hooks.Out);
    }

    [Fact]
    public void HooksListsKnownHooksWithShapeAndMeaning()
    {
        var all = CliOutput.Run("hooks", "--model", TestModels.FixtureDirectory);
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Matches(new Regex(@"blocks\.1\.attn\.hook_pattern\s+\[H, T, Tk\]\s+attention probabilities"), all.Out);
        Assert.Contains("51 hook points", all.Out);

        var some = CliOutput.Run("hooks", "--model", TestModels.FixtureDirectory, "--pattern", "*.moe.hook_topk_*");
        Assert.True(some.ExitCode == 0, some.ToString());
        Assert.Contains("4 hook points", some.Out);
        Assert.DoesNotContain("hook_resid_post", some.Out);
    }

    [Fact]
    public void BenchRunsWithTinySettings()
    {
        var result = CliOutput.Run("bench", "--tokens", "4", "--repeats", "1", "--generate", "2");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("capture '*'", result.Out);
        Assert.Contains("intervention: ban expert 0 of layer 1", result.Out);
        Assert.Contains("tokens/s", result.Out);
    }

    [Fact]
    public void BenchOfAQ8_0ModelWithInt8WeightsPrintsTheIssuesJsonKeys()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "bench-q8.gguf");
        GrokLens.Tools.SyntheticGguf.Write(path, GrokLens.Cli.Commands.BenchCommand.BenchConfig(1024), GrokLens.Checkpoints.Gguf.GgmlType.Q8_0, seed: 3);
        var result = CliOutput.Run("bench", "--model", path, "--weights", "int8", "--tokens", "5", "--generate", "3", "--repeats", "1", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        foreach (var key in new[] { "prefill_ms", "decode_ms_per_token", "peak_rss_bytes", "bandwidth_bound_ms_per_token", "decode_to_bound_ratio" })
            Assert.True(root.GetProperty(key).GetDouble() > 0, $"{key} must be positive: {result.Out}");
        var c = GrokLens.Cli.Commands.BenchCommand.BenchConfig(1024);
        long q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim;
        long int8Elements = c.NumLayers * (2 * q * c.HiddenSize + 2 * kv * c.HiddenSize + c.TopK * 3L * c.ExpertSize * c.HiddenSize);
        Assert.Equal(int8Elements / 32 * 34, root.GetProperty("decode_bytes_per_token").GetInt64()); // Q8_0: 34 bytes per 32 weights

        var table = CliOutput.Run("bench", "--model", path, "--weights", "int8", "--tokens", "5", "--generate", "3", "--repeats", "1");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"decode / bound = \d+\.\d\d", table.Out);
        Assert.Equal(2, CliOutput.Run("bench", "--model", path, "--weights", "float16").ExitCode);
        var notInt8 = CliOutput.Run("bench", "--model", TestModels.FixtureDirectory, "--weights", "int8");
        Assert.NotEqual(0, notInt8.ExitCode);
        Assert.Contains("int8 weights need a checkpoint that stores int8 matrices", notInt8.Error);
    }

    [Fact]
    public void BenchDumpsWritesReadsAndCopiesAShardedDumpOfTheFixture()
    {
        var leftovers = Directory.GetDirectories(Path.GetTempPath(), "groklens-dump-bench-*").Length;
        var result = CliOutput.Run("bench", "--dumps", "-m", TestModels.FixtureDirectory, "--tokens", "4", "--repeats", "1", "--shard-size", "2KiB");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"model 'grok1-mini', 4 tokens, all \d+ hooks, .* in \d+ data files \(shard size 2\.00 KiB\)", result.Out);
        string[] rows = ["file copy of the dump's files", "file copy, each file fsynced", "write dump folder", "read dump folder, validated",
            "read dump folder, no checksums", "write dump zip", "read dump zip, validated"];
        foreach (var row in rows)
            Assert.Matches(new Regex($@"^{Regex.Escape(row)} +\d+ +\d+\.\d\d +\d+\.\d ", RegexOptions.Multiline), result.Out);
        Assert.Matches(new Regex(@"^file copy of the dump's files +\d+ +1\.00 ", RegexOptions.Multiline), result.Out);
        Assert.Equal(leftovers, Directory.GetDirectories(Path.GetTempPath(), "groklens-dump-bench-*").Length);

        Assert.Equal(2, CliOutput.Run("bench", "--dumps", "-m", TestModels.FixtureDirectory, "--tokens", "0").ExitCode);
    }
}
