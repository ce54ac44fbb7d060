using System.Text.Json.Nodes;
using GrokLens.Analysis;

namespace GrokLens.Tests.Analysis;

public class RoutingHistoryTests
{
    private static readonly int[][] Windows = [[5, 6, 7], [8, 9]];

    /// <summary>2 layers × 5 tokens × top-2 of 4 experts.</summary>
    private static RoutingRecord Record(int step, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[2 * 5 * 2];
        for (int i = 0; i < bytes.Length; i += 2)
        {
            bytes[i] = (byte)random.Next(4);
            bytes[i + 1] = (byte)((bytes[i] + 1 + random.Next(3)) % 4);
        }
        return new RoutingRecord(step, 2, 5, 2, bytes);
    }

    [Fact]
    public void RoundTripsStepsWindowsAndChoices()
    {
        using var dir = new TempDirectory();
        var history = RoutingHistory.CreateOrOpen(dir.Path, 2, 4, 2, Windows, new JsonObject { ["books"] = "a, b" });
        var records = new[] { Record(0, 1), Record(10, 2), Record(30, 3) };
        history.Append(records[2], 3000);
        history.Append(records[0], 0);
        history.Append(records[1], 1000);

        var loaded = RoutingHistory.Load(dir.Path);
        Assert.Equal([0, 10, 30], loaded.Steps.Select(s => s.Step));
        Assert.Equal([0L, 1000L, 3000L], loaded.Steps.Select(s => s.TokensSeen));
        Assert.Equal((2, 4, 2, 5), (loaded.Layers, loaded.Experts, loaded.TopK, loaded.TokenCount));
        Assert.Equal(Windows, loaded.Windows);
        Assert.Equal("a, b", loaded.Description!["books"]!.GetValue<string>());
        foreach (var record in records)
        {
            var read = loaded.Read(record.Step);
            Assert.True(read.Bytes.SequenceEqual(record.Bytes));
            for (int layer = 0; layer < 2; layer++)
                for (int token = 0; token < 5; token++)
                    for (int rank = 0; rank < 2; rank++)
                        Assert.Equal(record.Bytes[(layer * 5 + token) * 2 + rank], read.Expert(layer, token, rank));
        }
        Assert.Equal(30, loaded.ReadFinal().Step);

        // Reopening with the same windows continues the history; other windows are refused.
        Assert.Equal(3, RoutingHistory.CreateOrOpen(dir.Path, 2, 4, 2, Windows).Steps.Count);
        Assert.Equal("a, b", RoutingHistory.Load(dir.Path).Description!["books"]!.GetValue<string>());
        RoutingHistory.CreateOrOpen(dir.Path, 2, 4, 2, Windows, new JsonObject { ["books"] = "c" }); // a changed plan
        Assert.Equal("c", RoutingHistory.Load(dir.Path).Description!["books"]!.GetValue<string>());
        Assert.Equal(3, RoutingHistory.Load(dir.Path).Steps.Count);
        Assert.Throws<InvalidDataException>(() => RoutingHistory.CreateOrOpen(dir.Path, 2, 4, 2, [[5, 6, 7], [8, 10]]));
        history.TruncateAfter(10);
        Assert.Equal([0, 10], RoutingHistory.Load(dir.Path).Steps.Select(s => s.Step));
        Assert.False(File.Exists(Path.Combine(dir.Path, RoutingHistory.StepFileName(30))));
    }

    [Fact]
    public void AgreementCountsSameTopOneAndSharedTopKChoices()
    {
        // Layer 0 of 3 tokens, top-2: (0,1) vs (0,2): same first, one shared; (1,2) vs (2,1): different first, both
        // shared; (3,0) vs (1,2): nothing shared. Layer 1 identical.
        var a = new RoutingRecord(1, 2, 3, 2, [0, 1, 1, 2, 3, 0, /* layer 1 */ 0, 1, 2, 3, 1, 0]);
        var b = new RoutingRecord(9, 2, 3, 2, [0, 2, 2, 1, 1, 2, /* layer 1 */ 0, 1, 2, 3, 1, 0]);
        var (top1, topK) = a.Agreement(b, 0);
        Assert.Equal(1.0 / 3, top1, 12);
        Assert.Equal(3.0 / 6, topK, 12);
        Assert.Equal((1.0, 1.0), a.Agreement(b, 1));
    }

    [Fact]
    public void BadFilesGiveClearErrors()
    {
        using var dir = new TempDirectory();
        var history = RoutingHistory.CreateOrOpen(dir.Path, 2, 4, 2, Windows);
        history.Append(Record(5, 1), 50);
        File.WriteAllBytes(Path.Combine(dir.Path, RoutingHistory.StepFileName(5)), new byte[7]);
        Assert.Contains("expected 2 × 5 × 2", Assert.Throws<InvalidDataException>(() => RoutingHistory.Load(dir.Path)).Message);
        File.WriteAllBytes(Path.Combine(dir.Path, RoutingHistory.StepFileName(5)), Enumerable.Repeat((byte)9, 20).ToArray());
        Assert.Contains("expert 9", Assert.Throws<InvalidDataException>(() => RoutingHistory.Load(dir.Path).Read(5)).Message);
        File.Delete(Path.Combine(dir.Path, RoutingHistory.StepFileName(5)));
        Assert.Contains("missing", Assert.Throws<InvalidDataException>(() => RoutingHistory.Load(dir.Path)).Message);
        Assert.Throws<FileNotFoundException>(() => RoutingHistory.Load(Path.Combine(dir.Path, "nowhere")));
        Assert.Throws<ArgumentException>(() => new RoutingRecord(0, 2, 5, 2, new byte[19]));
    }
}
