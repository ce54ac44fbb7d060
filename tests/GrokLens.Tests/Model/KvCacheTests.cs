using GrokLens.Model;

namespace GrokLens.Tests.Model;

public class KvCacheTests
{
    [Fact]
    public void CachedDecodingGivesTheLogitsOfTheFullForwardPass()
    {
        using var model = TestModels.Random();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tokens = tensor(new long[] { 5, 17, 3, 88, 42, 9, 61, 23, 7, 70 }, [1, 10]);
        var full = model.Forward(tokens);

        using var cache = new KvCache(model.Config, 1, 16, CPU);
        var prefix = model.Forward(tokens.narrow(1, 0, 6), cache: cache);
        var steps = new List<Tensor> { prefix };
        for (int position = 6; position < 10; position++)
            steps.Add(model.Forward(tokens.narrow(1, position, 1), cache: cache));
        var cached = cat(steps, 1);

        Assert.Equal(10, cache.Length);
        double relative = (cached - full).norm().item<float>() / full.norm().item<float>();
        Assert.True(relative < 1e-5, $"relative error {relative}");
    }

    [Fact]
    public void CacheRefusesPositionsBeyondItsCapacity()
    {
        using var model = TestModels.Random();
        using var scope = NewDisposeScope();
        using var cache = new KvCache(model.Config, 1, 4, CPU);
        model.Forward(tensor(new long[] { 1, 2, 3 }, [1, 3]), cache: cache);
        var error = Assert.Throws<InvalidOperationException>(() => model.Forward(tensor(new long[] { 4, 5 }, [1, 2]), cache: cache));
        Assert.Contains("capacity 4", error.Message);
    }
}
