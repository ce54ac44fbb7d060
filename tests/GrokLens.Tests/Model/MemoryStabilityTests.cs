using System.Diagnostics;
using GrokLens.Engine;
using GrokLens.Generation;

namespace GrokLens.Tests.Model;

/// <summary>Runs alone: resident memory is a process-wide measure that parallel tests would disturb.</summary>
[CollectionDefinition(nameof(MemoryStabilityTests), DisableParallelization = true)]
public sealed class MemoryStabilityCollection;

[Collection(nameof(MemoryStabilityTests))]
public class MemoryStabilityTests
{
    /// <summary>Native tensors are freed: many runs with every hook captured, and generations, do not grow the process.</summary>
    [Fact]
    public void RepeatedRunsDoNotGrowMemory()
    {
        using var model = TestModels.RandomLoaded(TestModels.SmallConfig(vocab: 2048));
        int[] tokens = Enumerable.Range(1, 48).ToArray();
        void Work(int times)
        {
            for (int i = 0; i < times; i++)
            {
                using (var run = model.Run(tokens, RunOptions.CaptureOnly("*"))) { }
                TextGenerator.Generate(model, tokens[..8], SamplingOptions.Greedy(4)).ToList();
            }
        }

        Work(30); // warm-up: allocator pools and lazily loaded code reach their steady size
        long before = ResidentBytes();
        Work(150);
        long growth = ResidentBytes() - before;
        // A run captures ~0.6 MB here (logits alone 48×2048 floats): 150 runs kept alive would add ~90 MB.
        Assert.True(growth < 40 * 1024 * 1024, $"resident memory grew by {growth / 1048576.0:F1} MB over 150 runs");
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }
}
