using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Tests.Fixtures;

namespace GrokLens.Tests.Analysis;

public class LogitLensTests
{
    [Fact]
    public void LastStageReproducesTheModelsOwnPrediction()
    {
        using var model = ModelLoader.Load(TestModels.FixtureDirectory);
        var tokens = FixtureReference.TokenIds();
        using var run = model.Run(tokens, new RunOptions { Capture = LogitLens.RequiredHooks(model.Config.NumLayers) });
        var lens = LogitLens.Compute(model, run.Cache, topK: 3);

        Assert.Equal(["embed", "layer 0", "layer 1"], lens.Stages);
        using var probabilities = run.Logits.softmax(-1);
        for (int t = 0; t < tokens.Length; t++)
        {
            var (values, ids) = probabilities[t].topk(3);
            Assert.Equal(ids.data<long>().ToArray().Select(i => (int)i), lens.Top[2][t].Select(p => p.TokenId));
            Assert.Equal(values.data<float>().ToArray(), lens.Top[2][t].Select(p => p.Probability), new FloatTolerance(1e-5f));
            Assert.True(lens.Top[0][t][0].Probability >= lens.Top[0][t][1].Probability);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LogitsOfTheLastResidualAreTheModelsLogits(bool grok2)
    {
        // Grok-2's untied head and final soft-cap go through the same unembedding as the model's own logits.
        var fixture = grok2 ? TestModels.Grok2FixtureDirectory : TestModels.FixtureDirectory;
        using var model = ModelLoader.Load(fixture);
        var tokens = FixtureReference.TokenIds(fixture);
        using var run = model.Run(tokens, RunOptions.CaptureOnly("blocks.1.hook_resid_post"));

        using var logits = LogitLens.Logits(model, run.Cache["blocks.1.hook_resid_post"]);

        Assert.Equal(run.Logits.shape, logits.shape);
        Assert.Equal(run.Logits.data<float>().ToArray(), logits.data<float>().ToArray(), new FloatTolerance(1e-4f));
    }

    [Fact]
    public void EveryStageIsTheSoftmaxTopKOfItsOwnLogitsWhetherStagesAreBatchedOrNot()
    {
        using var model = ModelLoader.Load(TestModels.FixtureDirectory);
        var tokens = FixtureReference.TokenIds();
        using var run = model.Run(tokens, new RunOptions { Capture = LogitLens.RequiredHooks(model.Config.NumLayers) });
        var batched = LogitLens.Compute(model, run.Cache, topK: 4);
        var oneStageAtATime = LogitLens.Compute(model, run.Cache, topK: 4, maxLogitElements: 1);

        string[] hooks = ["hook_embed", "blocks.0.hook_resid_post", "blocks.1.hook_resid_post"];
        for (int stage = 0; stage < hooks.Length; stage++)
        {
            using var logits = LogitLens.Logits(model, run.Cache[hooks[stage]]);
            var rows = logits.to_type(TorchSharp.torch.ScalarType.Float64).data<double>().ToArray();
            int vocab = (int)logits.shape[1];
            for (int t = 0; t < tokens.Length; t++)
            {
                // Softmax in float64, then the four most probable tokens.
                var row = rows.AsSpan(t * vocab, vocab).ToArray();
                double max = row.Max(), sum = row.Sum(x => Math.Exp(x - max));
                var expected = row.Select((x, id) => (Id: id, P: Math.Exp(x - max) / sum)).OrderByDescending(e => e.P).Take(4).ToArray();

                Assert.Equal(expected.Select(e => e.Id), batched.Top[stage][t].Select(p => p.TokenId));
                Assert.Equal(expected.Select(e => (float)e.P), batched.Top[stage][t].Select(p => p.Probability), new FloatTolerance(1e-6f));
                Assert.Equal(batched.Top[stage][t], oneStageAtATime.Top[stage][t]);
            }
        }
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float value) => 0;
    }
}
