using System.Text.Json;
using GrokLens.Analysis;
using GrokLens.Interventions;
using GrokLens.Loading;

namespace GrokLens.Tests.Cli;

public class CompareCommandTests
{
    [Fact]
    public void InterventionsFromAFileAreComparedWithTheBaselineAsJson()
    {
        using var folder = new TempDirectory();
        var file = Path.Combine(folder.Path, "ablate.json");
        Intervention[] ablate = [new AblateHeads([1], [0, 3])];
        File.WriteAllText(file, InterventionJson.Serialize(ablate));
        var result = CliOutput.Run("compare", "-m", TestModels.FixtureDirectory, "-t", "5,6,7,8", "--interventions", file,
            "--target", "11", "--target-b", "12", "--top", "3");
        Assert.True(result.ExitCode == 0, result.ToString());

        using var model = ModelLoader.Load(TestModels.FixtureDirectory);
        var expected = RunComparison.Compare(model, [5, 6, 7, 8], ablate, new ComparisonOptions { Target = 11, OtherTarget = 12, TopTokens = 3 });
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal(expected.NextToken!.KlAToB, root.GetProperty("next_token").GetProperty("kl_a_to_b").GetDouble(), 12);
        Assert.Equal(3, root.GetProperty("next_token").GetProperty("top_a").GetArrayLength());
        Assert.Equal(expected.Target!.LogitDifferenceB!.Value, root.GetProperty("target").GetProperty("logit_difference_b").GetDouble(), 12);
        Assert.Equal(ablate[0].Describe(), root.GetProperty("interventions_b")[0].GetString());
        Assert.Equal(4, root.GetProperty("aligned_positions").GetArrayLength());
    }

    [Fact]
    public void PatchingTheBaselineIntoTheSecondPromptReproducesTheBaseline()
    {
        using var folder = new TempDirectory();
        var file = Path.Combine(folder.Path, "patch.json");
        File.WriteAllText(file, InterventionJson.Serialize([new PatchActivation("blocks.0.hook_resid_post")]));
        var result = CliOutput.Run("compare", "-m", TestModels.FixtureDirectory, "-t", "5,6,7,8", "--token-ids-b", "5,9,7,8",
            "--interventions", file);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Out);
        Assert.True(json.RootElement.GetProperty("next_token").GetProperty("kl_a_to_b").GetDouble() < 1e-9);

        var unpatched = CliOutput.Run("compare", "-m", TestModels.FixtureDirectory, "-t", "5,6,7,8", "--token-ids-b", "5,9,7,8");
        using var plain = JsonDocument.Parse(unpatched.Out);
        Assert.True(plain.RootElement.GetProperty("next_token").GetProperty("kl_a_to_b").GetDouble() > 1e-6);
    }

    [Fact]
    public void NothingToCompareIsAUsageError()
    {
        var result = CliOutput.Run("compare", "-m", TestModels.FixtureDirectory, "-t", "5,6");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("nothing to compare", result.Error);
        var missing = CliOutput.Run("compare", "-m", TestModels.FixtureDirectory, "-t", "5,6", "--interventions", "/nonexistent.json");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("not found", missing.Error);
    }
}
