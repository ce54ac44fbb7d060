using GrokLens.Engine;

namespace GrokLens.Cluster.Tests;

internal static class TensorAssert
{
    /// <summary>Same dtype, shape and every element bit for bit (NaN-free activations: element-wise equality).</summary>
    public static void Identical(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.dtype == actual.dtype, $"{what}: dtype {actual.dtype}, expected {expected.dtype}");
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        using var equal = expected.eq(actual).all();
        if (!equal.item<bool>())
        {
            using var difference = (expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max();
            Assert.Fail($"{what}: differs (max |Δ| {difference.item<double>():g})");
        }
    }

    /// <summary>Same logits and the same captures, in the same order, bit for bit.</summary>
    public static void SameRun(RunResult expected, RunResult actual, string what)
    {
        Assert.Equal(expected.Cache.Names, actual.Cache.Names);
        Identical(expected.Logits, actual.Logits, $"{what}: logits");
        foreach (var name in expected.Cache.Names) Identical(expected.Cache[name], actual.Cache[name], $"{what}: {name}");
    }
}
