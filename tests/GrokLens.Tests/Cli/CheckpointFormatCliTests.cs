using GrokLens.Tests.Fixtures;

namespace GrokLens.Tests.Cli;

public class CheckpointFormatCliTests
{
    [Fact]
    public void InfoReadsAGgufFileAndShowsFormatAndPlacement()
    {
        var result = CliOutput.Run("info", "--model", Path.Combine(TestModels.FixtureDirectory, "model.gguf"), "--device", "0-1:cpu");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("gguf v3 (F32); layers 0-1:cpu", result.Out);
    }

    [Fact]
    public void StreamedGreedyGenerationPrintsTheSameTokensAsResident()
    {
        string[] args = ["generate", "-m", TestModels.FixtureDirectory, "-t", string.Join(",", FixtureReference.TokenIds()), "--temperature", "0", "-n", "4"];
        var resident = CliOutput.Run(args);
        var streamed = CliOutput.Run([.. args, "--weights", "stream"]);
        Assert.True(streamed.ExitCode == 0, streamed.ToString());
        Assert.Equal(resident.Out, streamed.Out);
    }

    [Fact]
    public void Int8OnAFloatCheckpointIsAClearError()
    {
        var result = CliOutput.Run("info", "--model", TestModels.FixtureDirectory, "--weights", "int8");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("int8", result.Error);
    }
}
