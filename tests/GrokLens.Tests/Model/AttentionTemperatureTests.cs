using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Tests.Model;

/// <summary>
/// Grok-2's attention temperature (SPEC §6.3.3): capped scores of a query at position p &gt; L are multiplied by
/// log₂(p)/log₂(L). The grok2-mini fixture never reaches L = 1024, so it is checked here against float64 math with L = 4.
/// </summary>
public class AttentionTemperatureTests
{
    private static GrokConfig Config => TestModels.SmallConfig() with
    {
        ResidualMoe = true, DenseSize = 64, RouterLogitSoftcap = 30, FinalLogitSoftcap = 50, AttnTemperatureLen = 4,
        TieWordEmbeddings = false, OutputMultiplier = 0.5,
    };

    private static readonly int[] Tokens = [5, 17, 3, 88, 41, 9, 60, 22, 71, 13];

    [Fact]
    public void TemperedScoresAndPatternMatchFloat64()
    {
        using var model = TestModels.RandomLoaded(Config);
        using var run = model.Run(Tokens, RunOptions.CaptureOnly("blocks.*.attn.hook_attn_scores_raw", "blocks.*.attn.hook_attn_scores_tempered",
            "blocks.*.attn.hook_pattern"));
        for (int layer = 0; layer < Config.NumLayers; layer++)
        {
            var raw = run.Cache[HookPoints.Layer(layer, HookPoints.AttnScoresRaw)].to_type(ScalarType.Float64);
            var capped = (raw / 30).tanh() * 30;
            var factors = Enumerable.Range(0, Tokens.Length).Select(p => p > 4 ? Math.Log2(p) / Math.Log2(4) : 1.0).ToArray();
            var tempered = capped * torch.tensor(factors, dtype: ScalarType.Float64).view(1, -1, 1);
            var actual = run.Cache[HookPoints.Layer(layer, HookPoints.AttnScoresTempered)].to_type(ScalarType.Float64);
            Assert.True((actual - tempered).abs().max().item<double>() < 1e-5 * Math.Max(1, tempered.abs().max().item<double>()));
            // Rows past L really are scaled: the last query's scores are log₂(9)/2 ≈ 1.58 times the capped ones.
            Assert.True(factors[^1] > 1.5);

            var causal = torch.ones(Tokens.Length, Tokens.Length, dtype: ScalarType.Bool).tril();
            var expectedPattern = tempered.masked_fill(causal.logical_not(), double.NegativeInfinity).softmax(-1);
            var pattern = run.Cache[HookPoints.Layer(layer, HookPoints.Pattern)].to_type(ScalarType.Float64);
            Assert.True((pattern - expectedPattern).abs().max().item<double>() < 1e-5);
        }
    }

    [Fact]
    public void CachedDecodingUsesAbsolutePositions()
    {
        using var model = TestModels.RandomLoaded(Config);
        using var full = model.Run(Tokens, RunOptions.CaptureOnly("logits"));
        // Decode the last three tokens one at a time with a KV cache: their queries sit past L at positions 7, 8, 9.
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var cache = new KvCache(model.Model, 1, Tokens.Length);
        var prefix = Tokens[..7].Select(t => (long)t).ToArray();
        model.Model.Forward(torch.tensor(prefix, [1, 7]), cache: cache);
        for (int position = 7; position < Tokens.Length; position++)
        {
            var step = model.Model.Forward(torch.tensor(new long[] { Tokens[position] }, [1, 1]), cache: cache);
            var expected = full.Logits[position];
            Assert.True((step[0, 0] - expected).abs().max().item<float>() < 1e-4, $"position {position}");
        }
    }
}
