using System.Text.Json;
using GrokLens.Checkpoints;

namespace GrokLens.Tests.Fixtures;

/// <summary>
/// The reference outputs of a fixture (tests/fixtures/grok1-mini by default, or grok2-mini) and how to compare against them.
/// </summary>
internal static class FixtureReference
{
    public static string ReferencePath => ReferencePathOf(TestModels.FixtureDirectory);

    private static string ReferencePathOf(string fixture) => Path.Combine(fixture, "reference.safetensors");

    public static int[] TokenIds(string? fixture = null)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture ?? TestModels.FixtureDirectory, "tokens.json")));
        return json.RootElement.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    public static IReadOnlyList<string> HookNames(string? fixture = null)
    {
        using var reference = SafetensorsFile.Open(ReferencePathOf(fixture ?? TestModels.FixtureDirectory));
        return reference.Names.OrderBy(n => n, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Asserts every reference tensor is matched: ‖a−b‖/‖b‖ below <paramref name="tolerance"/>, top-k indices exactly
    /// (or, with <paramref name="minimumTopKAgreement"/> below 1, at least that share of them).
    /// </summary>
    public static void AssertMatches(Func<string, Tensor> actualByName, double tolerance, double minimumTopKAgreement = 1.0,
        string? fixture = null)
    {
        using var reference = SafetensorsFile.Open(ReferencePathOf(fixture ?? TestModels.FixtureDirectory));
        Assert.NotEmpty(reference.Names);
        var failures = new List<string>();
        foreach (var name in reference.Names.OrderBy(n => n, StringComparer.Ordinal))
        {
            using var expected = reference.Load(name);
            var actual = actualByName(name);
            if (!actual.shape.SequenceEqual(expected.shape))
            {
                failures.Add($"{name}: shape [{string.Join(",", actual.shape)}] vs reference [{string.Join(",", expected.shape)}]");
                continue;
            }
            if (name.EndsWith("hook_topk_indices", StringComparison.Ordinal))
            {
                using var same = actual.to(ScalarType.Int64).eq(expected.to(ScalarType.Int64));
                double agreement = same.to(ScalarType.Float32).mean().item<float>();
                if (agreement < minimumTopKAgreement) failures.Add($"{name}: only {agreement:P1} of the expert choices agree");
                continue;
            }
            using var a = actual.to(ScalarType.Float64);
            using var b = expected.to(ScalarType.Float64);
            double relative = (a - b).norm().item<double>() / b.norm().item<double>();
            if (!(relative < tolerance)) failures.Add($"{name}: relative error {relative:E2} ≥ {tolerance:E0}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
