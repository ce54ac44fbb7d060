using GrokLens.Analysis;
using GrokLens.Analysis.Experts;

namespace GrokLens.Tests.Analysis.Experts;

public class RouterSaturationTests
{
    /// <summary>A routing history of 3 layers × 40 tokens × top-2 of 6 experts at steps 0, 50, 200 and 400, random choices.</summary>
    internal static RoutingHistory WriteHistory(string folder, out byte[][] records)
    {
        int[][] windows = [Enumerable.Range(1, 25).ToArray(), Enumerable.Range(30, 15).ToArray()];
        var history = RoutingHistory.CreateOrOpen(folder, 3, 6, 2, windows);
        var random = new Random(9);
        int[] steps = [0, 50, 200, 400];
        records = new byte[steps.Length][];
        for (int s = 0; s < steps.Length; s++)
        {
            var bytes = new byte[3 * 40 * 2];
            for (int i = 0; i < bytes.Length; i += 2)
            {
                // Later steps copy more of a fixed routing: agreement with the last step grows.
                var fixedRandom = new Random(i);
                bool settled = random.NextDouble() < 0.25 * s + 0.1;
                var source = settled ? fixedRandom : random;
                bytes[i] = (byte)source.Next(6);
                bytes[i + 1] = (byte)((bytes[i] + 1 + source.Next(5)) % 6);
            }
            records[s] = bytes;
            history.Append(new RoutingRecord(steps[s], 3, 40, 2, bytes), steps[s] * 1000L);
        }
        return RoutingHistory.Load(folder);
    }

    [Fact]
    public void AgreementWithTheFinalStepIsCountedPerLayer()
    {
        using var folder = new TempDirectory();
        var history = WriteHistory(folder.Path, out var records);
        var result = RouterSaturationResult.From(history);

        Assert.Equal(400, result.ReferenceStep);
        Assert.Equal([0, 50, 200, 400], result.Steps.Select(s => s.Step));
        Assert.Equal([0L, 50_000L, 200_000L, 400_000L], result.Steps.Select(s => s.TokensSeen));
        var final = records[^1];
        for (int s = 0; s < 4; s++)
            for (int layer = 0; layer < 3; layer++)
            {
                double sameFirst = 0, shared = 0;
                for (int token = 0; token < 40; token++)
                {
                    int at = (layer * 40 + token) * 2;
                    if (records[s][at] == final[at]) sameFirst++;
                    for (int r = 0; r < 2; r++)
                        if (records[s][at + r] == final[at] || records[s][at + r] == final[at + 1]) shared++;
                }
                Assert.Equal(sameFirst / 40, result.Steps[s].Top1[layer], 12);
                Assert.Equal(shared / 80, result.Steps[s].TopK[layer], 12);
            }
        Assert.All(result.Steps[^1].Top1.Concat(result.Steps[^1].TopK), a => Assert.Equal(1.0, a));
        Assert.Equal(result.Steps[1].TopK.Average(), result.Steps[1].MeanTopK, 12);
        Assert.True(result.Steps[0].MeanTop1 < result.Steps[2].MeanTop1);

        var earlier = RouterSaturationResult.From(history, referenceStep: 200);
        Assert.All(earlier.Steps[2].Top1, a => Assert.Equal(1.0, a));
        Assert.Equal(4 * 4, result.Tables()[0].Rows.Count);
    }
}
