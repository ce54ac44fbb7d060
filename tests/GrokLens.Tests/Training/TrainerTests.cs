using GrokLens.Analysis;
using GrokLens.Training;

namespace GrokLens.Tests.Training;

public class TrainerTests
{
    private static (int[] Train, int[] Validation, int Vocab) Data()
    {
        var corpus = TrainingTestData.Corpus();
        var tokenizer = TrainingTestData.Tokenizer(corpus);
        var (train, validation) = corpus.Encode(tokenizer);
        return (train, validation, tokenizer.VocabSize);
    }

    private static TrainingOptions Options(string folder, int steps) => new()
    {
        OutputFolder = folder,
        Steps = steps,
        BatchSize = 8,
        SequenceLength = 24,
        PeakLearningRate = 1e-2,
        WarmupSteps = 5,
        EvaluateEvery = 10,
        ValidationTokens = 256,
        CheckpointEvery = 0,
        Seed = 5,
    };

    [Fact]
    public void LossGoesDownOnRepetitiveText()
    {
        var (train, validation, vocab) = Data();
        using var model = TestModels.Random(TestModels.SmallConfig(vocab));
        using var dir = new TempDirectory();
        var reports = new List<TrainingProgress>();
        var result = new Trainer(model, Options(dir.Path, 30)).Train(train, validation, new SyncProgress<TrainingProgress>(reports.Add));

        Assert.Equal(30, reports.Count);
        Assert.Equal(Enumerable.Range(1, 30), reports.Select(r => r.Step));
        double first = reports[0].TrainLoss, last = reports.TakeLast(5).Average(r => r.TrainLoss);
        Assert.True(last < first - 1.5, $"loss {first:F3} → {last:F3}");
        Assert.NotNull(result.LastValidationLoss);
        Assert.True(result.LastValidationLoss < first - 1.5);
        Assert.All(reports, r => Assert.InRange(r.LoadBalancingLoss, 0.99, 8.0));
        Assert.True(reports[2].LearningRate < reports[4].LearningRate);
        Assert.Equal(31, File.ReadAllLines(result.LogPath).Length);
        Assert.NotNull(result.LastCheckpointFolder);
        Assert.True(File.Exists(Path.Combine(result.LastCheckpointFolder!, "model.safetensors")));
    }

    [Fact]
    public void ResumeContinuesAtTheSavedStepWithTheSameWeights()
    {
        var (train, validation, vocab) = Data();
        var config = TestModels.SmallConfig(vocab);
        using var straightDir = new TempDirectory();
        using var straight = TestModels.Random(config, seed: 3);
        new Trainer(straight, Options(straightDir.Path, 6)).Train(train, validation);

        using var resumedDir = new TempDirectory();
        using (var first = TestModels.Random(config, seed: 3))
        {
            using var stop = new CancellationTokenSource();
            var result = new Trainer(first, Options(resumedDir.Path, 6)).Train(train, validation,
                new SyncProgress<TrainingProgress>(p => { if (p.Step == 3) stop.Cancel(); }), stop.Token);
            Assert.Equal(3, result.FinalStep);
            Assert.Equal(3, TrainingCheckpoint.FindLatest(resumedDir.Path)!.Step);
        }
        using var second = TestModels.Random(config, seed: 99); // different weights: the checkpoint must overwrite them
        var steps = new List<int>();
        var resumed = new Trainer(second, Options(resumedDir.Path, 6)).Train(train, validation, new SyncProgress<TrainingProgress>(p => steps.Add(p.Step)));
        Assert.Equal(3, resumed.StartStep);
        Assert.Equal([4, 5, 6], steps);
        foreach (var ((name, a), (_, b)) in straight.Weights.Zip(second.Weights))
            Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-6), $"{name} differs after resume");
        Assert.Equal(Enumerable.Range(1, 6), TrainingLog.Read(resumed.LogPath).Select(r => r.Step));
    }

    [Fact]
    public void RecordsRoutingAtThePlannedStepsKeepsTheirCheckpointsAndRecordsAgainAfterResume()
    {
        var (train, validation, vocab) = Data();
        var config = TestModels.SmallConfig(vocab);
        var windows = RoutingRecordPlan.EvenWindows([validation], 3, 10);
        using var dir = new TempDirectory();
        var historyFolder = Path.Combine(dir.Path, "routing-history");
        var options = Options(dir.Path, 6) with
        {
            CheckpointEvery = 0,
            KeepCheckpoints = 1,
            RoutingRecord = new RoutingRecordPlan(historyFolder, windows, [0, 2, 4]),
        };
        using (var first = TestModels.Random(config, seed: 3))
        {
            using var stop = new CancellationTokenSource();
            new Trainer(first, options).Train(train, validation,
                new SyncProgress<TrainingProgress>(p => { if (p.Step == 3) stop.Cancel(); }), stop.Token);
        }
        Assert.Equal([0, 2], RoutingHistory.Load(historyFolder).Steps.Select(s => s.Step));

        using var model = TestModels.Random(config, seed: 3);
        new Trainer(model, options).Train(train, validation);
        var history = RoutingHistory.Load(historyFolder);
        Assert.Equal([0, 2, 4, 6], history.Steps.Select(s => s.Step));
        Assert.Equal([0L, 2L * 8 * 24, 4L * 8 * 24, 6L * 8 * 24], history.Steps.Select(s => s.TokensSeen));
        Assert.Equal(windows.SelectMany(w => w), history.Windows.SelectMany(w => w));
        // The final record is the final model's routing; the recorded steps' checkpoints survive pruning.
        var final = history.ReadFinal();
        Assert.True(final.Bytes.SequenceEqual(RoutingRecord.Capture(model, windows, 6).Bytes));
        Assert.Equal([2, 4, 6], TrainingCheckpoint.List(dir.Path).Select(c => c.Step));
        Assert.Equal((1.0, 1.0), final.Agreement(final, 0));
    }
}
