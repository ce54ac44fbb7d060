using GrokLens.Training;

namespace GrokLens.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void WarmsUpLinearlyThenDecaysByCosineToTenPercent()
    {
        double At(int step) => LearningRateSchedule.At(step, 110, 1e-3, 10, 0.1);
        Assert.Equal(1e-4, At(1), 12);
        Assert.Equal(5e-4, At(5), 12);
        Assert.Equal(1e-3, At(10), 12);
        Assert.Equal(1e-3 * (0.1 + 0.9 * 0.5), At(60), 12); // halfway through the decay
        Assert.Equal(1e-4, At(110), 12);
        for (int s = 11; s < 110; s++) Assert.True(At(s + 1) < At(s));
    }

    [Fact]
    public void WarmupStableDecayHoldsThePeakThenDecaysLinearlyOverTheLastShare()
    {
        double At(int step, int total = 110) =>
            LearningRateSchedule.At(step, total, 1e-3, 10, 0.1, LearningRateShape.WarmupStableDecay, 0.2);
        Assert.Equal(5e-4, At(5), 12);
        Assert.Equal(1e-3, At(10), 12);
        Assert.Equal(1e-3, At(50), 12);
        Assert.Equal(1e-3, At(88), 12); // decay = round(0.2 · 110) = 22 steps: 89 … 110
        Assert.Equal(1e-3 - 0.9e-3 * 11 / 22, At(99), 12);
        Assert.Equal(1e-4, At(110), 12);
        for (int s = 89; s < 110; s++) Assert.True(At(s + 1) < At(s));
        // Cut short at step 60 while stable: a 100-step run has the same past and decays from step 80.
        for (int s = 1; s <= 60; s++) Assert.Equal(At(s), At(s, 100), 12);
        Assert.Equal(1e-4, At(100, 100), 12);
    }

    [Fact]
    public void WindowSamplerIsReproducibleFromItsState()
    {
        var tokens = Enumerable.Range(0, 1000).ToArray();
        var a = new WindowSampler(tokens, 8, 42);
        a.NextBatch(3);
        var state = a.State;
        var expected = a.NextBatch(3);
        Assert.Equal(expected, new WindowSampler(tokens, 8, state).NextBatch(3));
        for (int b = 0; b < 3; b++)
            for (int i = 1; i < 9; i++) Assert.Equal(expected[b * 9] + i, expected[b * 9 + i]);
    }
}

public class GrokTinyConfigTests
{
    [Fact]
    public void FitsTheSizeBudgetWithTheChildrensBooksVocabulary()
    {
        var config = GrokLens.Training.GrokTinyConfig.Create(15417);
        Assert.Equal(10_906_112, config.ParameterCount);
        Assert.True(config.ParameterCount * 2 <= 25_000_000);
        Assert.Equal(8, config.NumHeads);
        Assert.Equal(16.0, config.EmbeddingMultiplier);
    }
}
