using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Loading;
using GrokLens.Web.Views;

namespace GrokLens.Web.Tests.Services;

/// <summary>The Grok-2 numbers of the Explore page against float64 computations from the same run's activations.</summary>
public sealed class Grok2ExploreTests
{
    [Fact]
    public void DenseShareAndUncappedRouterProbabilitiesMatchFloat64()
    {
        using var model = ModelLoader.Load(Path.Combine(TestRepository.Root, "tests", "fixtures", "grok2-mini"));
        var config = model.Config;
        Assert.True(config.ResidualMoe && config.RouterLogitSoftcap > 0);
        int[] ids = [5, 17, 300, 42, 9, 100, 7];
        using var run = model.Run(ids, new RunOptions { Capture = ExploreResultBuilder.RequiredHooks(config) });
        var result = ExploreResultBuilder.Build(model, run, ids.Length);

        Assert.Equal(config.NumLayers, result.DenseShare.Length);
        Assert.Equal(config.NumLayers, result.RouterProbsUncapped.Length);
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            var dense = Rows(run.Cache[HookPoints.Layer(layer, HookPoints.MlpOut)]);
            var experts = Rows(run.Cache[HookPoints.Layer(layer, HookPoints.MoeOut)]);
            var logits = Rows(run.Cache[HookPoints.Layer(layer, HookPoints.RouterLogits)]);
            var used = Rows(run.Cache[HookPoints.Layer(layer, HookPoints.RouterProbs)]);
            for (int t = 0; t < ids.Length; t++)
            {
                double a = Norm(dense[t]), b = Norm(experts[t]);
                Assert.Equal(a / (a + b), result.DenseShare[layer][t], 1e-6);
                var uncapped = Softmax(logits[t]);
                var capped = Softmax(logits[t].Select(x => config.RouterLogitSoftcap * Math.Tanh(x / config.RouterLogitSoftcap)).ToArray());
                for (int e = 0; e < config.NumExperts; e++)
                {
                    Assert.Equal(uncapped[e], result.RouterProbsUncapped[layer][t][e], 1e-6);
                    Assert.Equal(capped[e], used[t][e], 1e-6); // What the router used is the capped softmax.
                }
            }
        }
    }

    [Fact]
    public void AGrok1ModelHasNeither()
    {
        using var model = ModelLoader.Load(Path.Combine(TestRepository.Root, "tests", "fixtures", "grok1-mini"));
        Assert.Equal(ExploreResultBuilder.RequiredHooks(model.Config.NumLayers), ExploreResultBuilder.RequiredHooks(model.Config));
        int[] ids = [5, 17, 300];
        using var run = model.Run(ids, new RunOptions { Capture = ExploreResultBuilder.RequiredHooks(model.Config) });
        var result = ExploreResultBuilder.Build(model, run, ids.Length);
        Assert.Empty(result.DenseShare);
        Assert.Empty(result.RouterProbsUncapped);
    }

    private static double[][] Rows(TorchSharp.torch.Tensor t)
    {
        using var d = t.to_type(TorchSharp.torch.ScalarType.Float64).contiguous();
        var values = d.data<double>().ToArray();
        int width = (int)t.shape[^1];
        return Enumerable.Range(0, values.Length / width).Select(r => values.AsSpan(r * width, width).ToArray()).ToArray();
    }

    private static double Norm(double[] v) => Math.Sqrt(v.Sum(x => x * x));

    private static double[] Softmax(double[] x)
    {
        double max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }
}
