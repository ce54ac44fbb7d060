using GrokLens.Kernels;

namespace GrokLens.Tests.Kernels;

/// <summary>Every chunk of every job runs exactly once, however the helpers arrive (late helpers must claim nothing).</summary>
public unsafe class SharedChunkRunnerTests
{
    [Fact]
    public void EveryChunkRunsExactlyOnce()
    {
        var random = new Random(3);
        var counts = new int[300];
        fixed (int* countsPointer = counts)
        {
            for (int job = 0; job < 3000; job++)
            {
                int chunks = random.Next(1, counts.Length + 1), helpers = random.Next(0, 3);
                Array.Clear(counts);
                SharedChunkRunner.Run(chunks, helpers, &Count, countsPointer);
                for (int chunk = 0; chunk < counts.Length; chunk++)
                    Assert.True(counts[chunk] == (chunk < chunks ? 1 : 0), $"job {job}: chunk {chunk} of {chunks} ran {counts[chunk]} times");
            }
        }
    }

    [Fact]
    public void AHelpersFailureReachesTheCaller()
    {
        var error = Assert.Throws<InvalidOperationException>(() => SharedChunkRunner.Run(64, 1, &FailOnChunkThirty, null));
        Assert.Equal("chunk 30", error.Message);
        // The runner is free again afterwards.
        var counts = new int[8];
        fixed (int* countsPointer = counts) SharedChunkRunner.Run(8, 1, &Count, countsPointer);
        Assert.All(counts, count => Assert.Equal(1, count));
    }

    private static void Count(void* counts, int chunk)
    {
        Interlocked.Increment(ref ((int*)counts)[chunk]);
        if (chunk % 16 == 0) Thread.SpinWait(200); // uneven chunks let the threads interleave
    }

    private static void FailOnChunkThirty(void* _, int chunk)
    {
        if (chunk == 30) throw new InvalidOperationException("chunk 30");
    }
}
