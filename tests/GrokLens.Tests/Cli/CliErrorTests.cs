namespace GrokLens.Tests.Cli;

/// <summary>Bad input: a non-zero exit code and one helpful line on stderr, never a stack trace.</summary>
public class CliErrorTests
{
    private static string Fixture => TestModels.FixtureDirectory;

    private static CliOutput Capture(params string[] extra)
    {
        var output = Path.Combine(Path.GetTempPath(), $"groklens-never-{Guid.NewGuid():N}.safetensors");
        var result = CliOutput.Run(["capture", "--out", output, .. extra]);
        Assert.False(File.Exists(output));
        return result;
    }

    private static void AssertFails(CliOutput result, int exitCode, string phrase)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains(phrase, result.Error);
        Assert.DoesNotContain("   at ", result.Error); // No stack trace.
        Assert.DoesNotContain("internal error", result.Error);
    }

    [Fact]
    public void MissingOptionIsAUsageError() =>
        AssertFails(Capture("--model", Fixture, "--token-ids", "1,2"), 2, "'--hooks' is required");

    [Fact]
    public void UnknownOptionIsAUsageError() =>
        AssertFails(Capture("--model", Fixture, "-t", "1", "--hooks", "*", "--colour"), 2, "--colour");

    [Fact]
    public void NoCommandIsAUsageError() => AssertFails(CliOutput.Run(), 2, "command");

    [Fact]
    public void PromptAndTokenIdsTogetherAreRefused() =>
        AssertFails(Capture("-m", Fixture, "--prompt", "hi", "--token-ids", "1", "--hooks", "*"), 2, "not both");

    [Fact]
    public void NeitherPromptNorTokenIdsIsRefused() =>
        AssertFails(Capture("-m", Fixture, "--hooks", "*"), 2, "--token-ids");

    [Fact]
    public void TextPromptOnAModelWithoutTokenizerPointsToTokenIds() =>
        AssertFails(Capture("-m", Fixture, "--prompt", "hello", "--hooks", "*"), 1, "use --token-ids");

    [Fact]
    public void UnknownHookListsCloseMatches() =>
        AssertFails(Capture("-m", Fixture, "-t", "1,2", "--hooks", "blocks.0.hook_resid_pst"), 1, "Did you mean: blocks.0.hook_resid_post");

    [Theory]
    [InlineData("1,x,3", "not an integer")]
    [InlineData("1,,3", "empty")]
    [InlineData("", "empty")]
    [InlineData("1,512", "outside the vocabulary")]
    public void MalformedTokenIdsAreExplained(string ids, string phrase) =>
        AssertFails(Capture("-m", Fixture, "-t", ids, "--hooks", "*"), 1, phrase);

    [Fact]
    public void OverLongPromptIsRefused() =>
        AssertFails(Capture("-m", Fixture, "-t", string.Join(",", Enumerable.Repeat(5, 300)), "--hooks", "*"), 1, "at most 256");

    [Fact]
    public void EmptyTextPromptIsRefused()
    {
        // A copy of the fixture with Grok-1's tokenizer beside it, so --prompt is accepted.
        using var folder = new TempDirectory();
        foreach (var name in new[] { "config.json", "model.safetensors" })
            File.Copy(Path.Combine(Fixture, name), Path.Combine(folder.Path, name));
        File.Copy(Path.Combine(TestModels.RepositoryRoot(), "models", "grok1-tokenizer", "tokenizer.model"),
            Path.Combine(folder.Path, "tokenizer.model"));
        AssertFails(Capture("-m", folder.Path, "--prompt", "", "--hooks", "*"), 1, "prompt is empty");
    }

    [Fact]
    public void MissingModelFolderIsExplained() =>
        AssertFails(Capture("-m", Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid()), "-t", "1", "--hooks", "*"), 1, "Model not found");

    [Fact]
    public void FolderWithoutConfigIsExplained()
    {
        using var folder = new TempDirectory();
        AssertFails(Capture("-m", folder.Path, "-t", "1", "--hooks", "*"), 1, "config.json");
    }

    [Fact]
    public void MalformedConfigIsExplained()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(Path.Combine(folder.Path, "config.json"), "{ \"vocab_size\": 512 ");
        AssertFails(Capture("-m", folder.Path, "-t", "1", "--hooks", "*"), 1, "config.json");
    }

    [Fact]
    public void MalformedWeightsAreExplained()
    {
        using var folder = new TempDirectory();
        File.Copy(Path.Combine(Fixture, "config.json"), Path.Combine(folder.Path, "config.json"));
        File.WriteAllBytes(Path.Combine(folder.Path, "model.safetensors"), [1, 2, 3]);
        AssertFails(Capture("-m", folder.Path, "-t", "1", "--hooks", "*"), 1, "model.safetensors");
    }

    [Fact]
    public void BadGenerationSettingsAreExplained() =>
        AssertFails(CliOutput.Run("generate", "-m", Fixture, "-t", "1", "--top-p", "0"), 1, "top-p");

    [Fact]
    public void UnknownPresetIsAUsageError() =>
        AssertFails(CliOutput.Run("info", "--preset", "grok-9"), 2, "grok-9");
}
