using GrokLens.Analysis;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Training;

namespace GrokLens.Tests.Dumps;

/// <summary>--reduce: expert counts, per-neuron mean/max and routing statistics checked against direct runs.</summary>
public class BatchReduceTests
{
    private static readonly BatchPrompt[] Prompts =
    [
        new("a", null, [5, 17, 3, 88, 42]), new("b", null, [9]), new("c", null, [61, 23, 7, 1, 2, 60, 50]), new("d", null, [40, 30, 11]),
    ];

    private static readonly string[] Reduced = ["blocks.0.hook_resid_post", "blocks.1.moe.hook_expert_post"];

    [Fact]
    public void ReductionsMatchAnIndependentComputationAndSurviveAnInterruption()
    {
        using var model = TestModels.RandomLoaded();
        using var folder = new TempDirectory();
        var options = new BatchOptions { Hooks = Reduced, Reduce = true, CommitEvery = 1 };

        // One batch interrupted after two prompts and resumed, one straight through.
        var resumed = Path.Combine(folder.Path, "resumed");
        using (var cancellation = new CancellationTokenSource())
        {
            var stop = new SynchronousProgress(p => { if (p.Done >= 2) cancellation.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => BatchCapture.Run(model, Prompts, resumed, options, stop, cancellation.Token));
        }
        BatchCapture.Run(model, Prompts, resumed, options);
        var straight = Path.Combine(folder.Path, "straight");
        BatchCapture.Run(model, Prompts, straight, options);

        var config = model.Config;
        int layers = config.NumLayers, experts = config.NumExperts, d = config.HiddenSize, f = config.ExpertSize;
        var counts = new long[layers, experts];
        var residSum = new double[d];
        var residMax = Enumerable.Repeat(double.NegativeInfinity, d).ToArray();
        var expertSum = new double[experts, f];
        var expertMax = new double[experts, f];
        var expertRows = new long[experts];
        for (int e = 0; e < experts; e++) for (int j = 0; j < f; j++) expertMax[e, j] = double.NegativeInfinity;
        long tokens = 0;
        var routingParts = Enumerable.Range(0, layers).Select(_ => new List<RoutingStatistics>()).ToArray();
        foreach (var prompt in Prompts)
        {
            using var run = model.Run(prompt.TokenIds!, RunOptions.CaptureOnly([.. Reduced, "blocks.*.moe.hook_topk_indices"]));
            int length = prompt.TokenIds!.Count;
            tokens += length;
            for (int layer = 0; layer < layers; layer++)
            {
                var indices = run.Cache[$"blocks.{layer}.moe.hook_topk_indices"];
                foreach (var e in indices.data<long>().ToArray()) counts[layer, e]++;
                if (length > 1) routingParts[layer].Add(RoutingStatistics.FromTopK(layer, indices.unsqueeze(0), experts));
            }
            var resid = run.Cache["blocks.0.hook_resid_post"].to_type(ScalarType.Float64).data<double>().ToArray();
            for (int t = 0; t < length; t++)
                for (int j = 0; j < d; j++)
                {
                    residSum[j] += resid[t * d + j];
                    residMax[j] = Math.Max(residMax[j], resid[t * d + j]);
                }
            var post = run.Cache["blocks.1.moe.hook_expert_post"].to_type(ScalarType.Float64).data<double>().ToArray();
            var chosen = run.Cache["blocks.1.moe.hook_topk_indices"].data<long>().ToArray();
            for (int row = 0; row < chosen.Length; row++)
            {
                var e = chosen[row];
                expertRows[e]++;
                for (int j = 0; j < f; j++)
                {
                    expertSum[e, j] += post[row * f + j];
                    expertMax[e, j] = Math.Max(expertMax[e, j], post[row * f + j]);
                }
            }
        }

        foreach (var path in new[] { resumed, straight })
        {
            using var dump = DumpReader.Open(path);
            var reductions = dump.Manifest.Reductions!;
            Assert.Equal(DumpFormat.ReductionsKind, dump.Manifest.Kind);
            Assert.Equal(Prompts.Select(p => p.Id), dump.Runs.Select(r => r.Id));
            Assert.All(dump.Runs, r => Assert.Empty(r.Hooks));
            Assert.Equal(tokens, reductions.Tokens);
            Assert.Equal(Reduced, reductions.Hooks);
            for (int layer = 0; layer < layers; layer++)
            {
                var expected = Enumerable.Range(0, experts).Select(e => counts[layer, e]).ToArray();
                using var stored = dump.LoadReduction($"blocks.{layer}.moe.expert_counts");
                Assert.Equal(expected, stored.data<long>().ToArray());
                Assert.Equal(expected, reductions.Routing[layer].ExpertCounts);
                var merged = RoutingStatistics.Merge(routingParts[layer]);
                Assert.Equal(merged.SameFirstExpertRate, reductions.Routing[layer].SameFirstExpertRate!.Value, 12);
                Assert.Equal(merged.TopKOverlapRate, reductions.Routing[layer].TopKOverlapRate!.Value, 12);
                Assert.Equal(tokens - Prompts.Length, reductions.Routing[layer].RatePairs); // n − 1 pairs per prompt; the one-token prompt has none.
            }
            using (var sum = dump.LoadReduction("blocks.0.hook_resid_post.sum"))
            using (var mean = dump.LoadReduction("blocks.0.hook_resid_post.mean"))
            using (var max = dump.LoadReduction("blocks.0.hook_resid_post.max"))
            using (var count = dump.LoadReduction("blocks.0.hook_resid_post.count"))
            {
                Assert.Equal(tokens, count.item<long>());
                AssertClose(residSum, sum.data<double>().ToArray(), 1e-9);
                AssertClose(residSum.Select(s => s / tokens).ToArray(), mean.to_type(ScalarType.Float64).data<double>().ToArray(), 1e-6);
                AssertClose(residMax, max.to_type(ScalarType.Float64).data<double>().ToArray(), 0);
            }
            using (var sum = dump.LoadReduction("blocks.1.moe.hook_expert_post.sum"))
            using (var max = dump.LoadReduction("blocks.1.moe.hook_expert_post.max"))
            using (var count = dump.LoadReduction("blocks.1.moe.hook_expert_post.count"))
            {
                Assert.Equal(expertRows, count.data<long>().ToArray());
                AssertClose(expertSum.Cast<double>().ToArray(), sum.data<double>().ToArray(), 1e-9);
                AssertClose(expertMax.Cast<double>().ToArray(), max.to_type(ScalarType.Float64).data<double>().ToArray(), 0);
            }
        }
    }

    [Fact]
    public void AttentionPatternsCannotBeReducedPerNeuron()
    {
        using var model = TestModels.RandomLoaded();
        using var folder = new TempDirectory();
        var error = Assert.Throws<ArgumentException>(() => BatchCapture.Run(model, Prompts, folder.Path,
            new BatchOptions { Hooks = ["blocks.0.attn.hook_pattern"], Reduce = true }));
        Assert.Contains("[H, T, Tk]", error.Message);
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsInfinity(expected[i])) Assert.Equal(expected[i], actual[i]);
            else Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}] {actual[i]} vs {expected[i]}");
        }
    }
}
