using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Interventions;
using GrokLens.Loading;

namespace GrokLens.Tests.Dumps;

/// <summary>Dumps of the grok1-mini fixture written for the tests, and exact comparison helpers.</summary>
internal static class DumpTestData
{
    public static readonly int[] Tokens = [243, 263, 387, 486, 20, 76];

    public static readonly Intervention[] Ablation = [new AblateExpert(1, 3)];

    public static LoadedModel LoadFixture() => ModelLoader.Load(TestModels.FixtureDirectory);

    /// <summary>Writes a one-run dump of every hook with the ablation applied, in files of at most <paramref name="shardBytes"/>.</summary>
    public static DumpManifest WriteFixtureDump(LoadedModel model, string folder, long shardBytes = 4096)
    {
        using var run = InterventionRunner.Run(model, Tokens, Ablation, RunOptions.CaptureOnly("*"));
        return DumpWriter.WriteFolder(folder, model, [DumpWriter.FromRun(model, run, "run0", null, Ablation)],
            new DumpWriteOptions { ShardBytes = shardBytes });
    }

    /// <summary>Asserts two tensors are identical in shape, dtype and every value.</summary>
    public static void AssertIdentical(Tensor expected, Tensor actual, string name)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{name}: shape [{string.Join(",", actual.shape)}] vs [{string.Join(",", expected.shape)}]");
        Assert.True(expected.dtype == actual.dtype, $"{name}: dtype {actual.dtype} vs {expected.dtype}");
        Assert.True(expected.eq(actual).all().item<bool>(), $"{name}: values differ");
    }
}
