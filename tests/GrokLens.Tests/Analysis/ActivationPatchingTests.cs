using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Hooks;

namespace GrokLens.Tests.Analysis;

public class ActivationPatchingTests
{
    private static readonly int[] Clean = [5, 17, 3, 88, 42];
    private static readonly int[] Corrupted = [5, 17, 60, 88, 42];

    private static PatchingMetric TopTwoOfClean(LoadedModel model)
    {
        using var run = model.Run(Clean);
        var (_, ids) = run.Logits[^1].topk(2);
        return PatchingMetric.LogitDifference((int)ids[0].item<long>(), (int)ids[1].item<long>());
    }

    [Fact]
    public void ResidualSweepRecoversFullyAtTheCorruptedEmbeddingAndNothingElsewhereInLayer0()
    {
        using var model = TestModels.RandomLoaded();
        var metric = TopTwoOfClean(model);
        var reports = new List<PatchingProgress>();
        var map = ActivationPatching.ResidualStream(model, Clean, Corrupted, metric, new SynchronousProgress(reports));

        using var clean = model.Run(Clean);
        using var corrupted = model.Run(Corrupted);
        Assert.Equal(metric.Evaluate(clean.Logits), map.CleanMetric, 9);
        Assert.Equal(metric.Evaluate(corrupted.Logits), map.CorruptedMetric, 9);
        Assert.NotEqual(map.CleanMetric, map.CorruptedMetric);
        // Only position 2 differs: patching its clean embedding is the clean run; other positions are already clean.
        Assert.Equal(1.0, map.Recovery[0][2], 4);
        Assert.Equal(map.CleanMetric, map.PatchedMetric[0][2], 4);
        // (up to float rounding: the patched run takes another path through the hooks)
        foreach (int p in new[] { 0, 1, 3, 4 }) Assert.Equal(0.0, map.Recovery[0][p], 5);
        // Positions before the corruption never see it, in any layer.
        for (int layer = 0; layer < 2; layer++) Assert.Equal(0.0, map.Recovery[layer][0], 5);
        Assert.Equal(2 * Clean.Length, reports.Count);
        Assert.Equal(new PatchingProgress(10, 10), reports[^1]);
    }

    [Fact]
    public void HeadSweepMatchesPatchingEachHeadsValuesByHand()
    {
        using var model = TestModels.RandomLoaded();
        var metric = PatchingMetric.Probability(TopTwoOfClean(model).Token);
        var map = ActivationPatching.Heads(model, Clean, Corrupted, metric);
        Assert.Equal(2, map.Recovery.Length);
        Assert.Equal(4, map.Recovery[0].Length);

        using var clean = model.Run(Clean, RunOptions.CaptureOnly("blocks.*.attn.hook_z"));
        for (int layer = 0; layer < 2; layer++)
            for (int head = 0; head < 4; head++)
            {
                var cleanZ = clean.Cache[$"blocks.{layer}.attn.hook_z"];
                int h = head;
                HookFunction replace = (z, _) =>
                {
                    var patched = z.clone();
                    patched[0, .., h] = cleanZ[.., h];
                    return patched;
                };
                using var run = model.Run(Corrupted, new RunOptions { Hooks = [($"blocks.{layer}.attn.hook_z", replace)] });
                double expected = (metric.Evaluate(run.Logits) - map.CorruptedMetric) / (map.CleanMetric - map.CorruptedMetric);
                Assert.Equal(expected, map.Recovery[layer][head], 6);
            }
    }

    [Fact]
    public void SweepsCanBeCancelledAndCheckTheirInput()
    {
        using var model = TestModels.RandomLoaded();
        var metric = TopTwoOfClean(model);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.Throws<OperationCanceledException>(() => ActivationPatching.ResidualStream(model, Clean, Corrupted, metric, cancellation: cancel.Token));
        Assert.Contains("same length", Assert.Throws<ArgumentException>(() => ActivationPatching.Heads(model, Clean, Corrupted[..4], metric)).Message);
        Assert.Contains("second token", Assert.Throws<ArgumentException>(() =>
            ActivationPatching.Heads(model, Clean, Corrupted, new PatchingMetric(PatchingMetricKind.LogitDifference, 3))).Message);
    }

    /// <summary>IProgress that records reports on the calling thread (Progress&lt;T&gt; posts them asynchronously).</summary>
    private sealed class SynchronousProgress(List<PatchingProgress> reports) : IProgress<PatchingProgress>
    {
        public void Report(PatchingProgress value) => reports.Add(value);
    }
}
