using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Tests.Cli;

namespace GrokLens.Tests.Dumps;

public class BatchCaptureTests
{
    private static readonly BatchPrompt[] Prompts =
    [
        new("p0", null, [5, 17, 3]), new("p1", null, [88]), new("p2", null, [42, 9, 61, 23, 7]), new("p3", null, [1, 2]),
        new("p4", null, [60, 50, 40, 30]), new("p5", null, [11, 12, 13]), new("p6", null, [96, 0, 95]),
    ];

    private const string Hooks = "blocks.*.moe.hook_topk_indices,logits";

    /// <summary>Runs the batch until <paramref name="stopAfter"/> prompts are done, then cancels as Ctrl-C would.</summary>
    private static void RunInterrupted(LoadedModel model, string folder, BatchOptions options, int stopAfter)
    {
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress(p => { if (p.Done >= stopAfter) cancellation.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => BatchCapture.Run(model, Prompts, folder, options, progress, cancellation.Token));
    }

    [Fact]
    public void AnInterruptedBatchResumesWithEveryPromptExactlyOnce()
    {
        using var folder = new TempDirectory();
        var dump = Path.Combine(folder.Path, "batch");
        using var model = DumpTestData.LoadFixture();
        RunInterrupted(model, dump, new BatchOptions { Hooks = Hooks.Split(","), ShardBytes = 3000 }, stopAfter: 3);

        DumpManifest partial;
        using (var reader = DumpReader.Open(dump)) partial = reader.Manifest;
        Assert.False(partial.Complete);
        Assert.Equal(["p0", "p1", "p2"], partial.Runs.Select(r => r.Id));

        // The rerun goes through the command line, as a user would.
        var jsonl = Path.Combine(folder.Path, "prompts.jsonl");
        File.WriteAllLines(jsonl, Prompts.Select(p => $"{{\"id\": \"{p.Id}\", \"token_ids\": [{string.Join(",", p.TokenIds!)}]}}"));
        string[] args = ["batch", "-m", TestModels.FixtureDirectory, "--prompts", jsonl, "--hooks", Hooks, "-o", dump, "--shard-size", "3000"];
        var result = CliOutput.Run(args);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("7/7 prompts (3 resumed)", result.Error);
        Assert.Contains("tokens/s", result.Error);
        Assert.Contains("7 prompts in", result.Out);

        using (var reader = DumpReader.Open(dump))
        {
            var manifest = reader.Manifest;
            Assert.True(manifest.Complete);
            Assert.Equal(Prompts.Select(p => p.Id), manifest.Runs.Select(r => r.Id));
            // The first session's files are kept as they were: nothing was redone.
            foreach (var file in partial.Files) Assert.Contains(file, manifest.Files);
            Assert.Equal(manifest.Files.Select(f => f.Name).Append("manifest.json").Order(), Directory.GetFiles(dump).Select(Path.GetFileName).Order());
            foreach (var prompt in Prompts)
            {
                var run = reader.Run(prompt.Id);
                Assert.Equal(prompt.TokenIds, run.TokenIds);
                Assert.All(run.Hooks, h => Assert.StartsWith(prompt.Id + "/", h.Tensor));
                using var expected = model.Run(prompt.TokenIds!, RunOptions.CaptureOnly(Hooks.Split(',')));
                using var cache = reader.LoadCache(run);
                Assert.Equal(expected.Cache.Names, cache.Names);
                foreach (var name in cache.Names) DumpTestData.AssertIdentical(expected.Cache[name], cache[name], $"{prompt.Id} {name}");
            }
        }

        // Running it again finds nothing to do and adds nothing.
        var again = CliOutput.Run(args);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("7/7 prompts (7 resumed)", again.Error);
        using (var reader = DumpReader.Open(dump)) Assert.Equal(7, reader.Runs.Count);

        // Resuming with other settings is refused rather than mixing two kinds of runs.
        var other = CliOutput.Run("batch", "-m", TestModels.FixtureDirectory, "--prompts", jsonl, "--hooks", "logits", "-o", dump);
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("other hooks", other.Error);
        Assert.Contains("--overwrite", other.Error);
    }
}

/// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SynchronousProgress(Action<BatchProgress> report) : IProgress<BatchProgress>
{
    public void Report(BatchProgress value) => report(value);
}
