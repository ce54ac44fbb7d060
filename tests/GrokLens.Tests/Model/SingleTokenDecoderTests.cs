using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Tests.Model;

/// <summary>
/// A decode step with nothing hooked runs in <see cref="GrokLens.Model.SingleToken.SingleTokenDecoder"/> instead of the
/// torch operations; it must give the general path's logits and cache (the general path runs when any hooks object is
/// given, even an empty one), for Grok-1 and for every Grok-2 feature, with pad tokens among the keys.
/// </summary>
public class SingleTokenDecoderTests
{
    public static TheoryData<string> Configs() => ["grok-1", "grok-2 features", "wide (vectorised loops, shared rows)"];

    private static GrokConfig ConfigNamed(string name) => name switch
    {
        "grok-2 features" => TestModels.SmallConfig() with
        {
            ResidualMoe = true, DenseSize = 64, RouterLogitSoftcap = 30, FinalLogitSoftcap = 50, AttnTemperatureLen = 4,
            TieWordEmbeddings = false, OutputMultiplier = 0.5,
        },
        // d 256, heads of 32 and a 4096 × 256 head: full 16-wide vectors and products big enough to share with a helper.
        "wide (vectorised loops, shared rows)" => TestModels.SmallConfig(vocab: 4096) with
        {
            HiddenSize = 256, HeadDim = 32, NumHeads = 8, NumKvHeads = 2, ExpertSize = 512,
            EmbeddingMultiplier = 16, AttnOutputMultiplier = 1 / Math.Sqrt(32),
        },
        _ => TestModels.SmallConfig(),
    };

    // Token 0 is the pad id: its keys are masked, in the prompt and in a decoded step.
    private static readonly long[] Prompt = [5, 0, 17, 3, 88];
    private static readonly long[] Steps = [42, 0, 9, 61, 23, 7, 70, 11];

    [Theory]
    [MemberData(nameof(Configs))]
    public void DecodeStepsGiveTheGeneralPathsLogits(string name)
    {
        using var model = TestModels.Random(ConfigNamed(name));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var fastCache = new KvCache(model, 1, 16);
        using var generalCache = new KvCache(model, 1, 16);
        using var noHooks = new ForwardHooks();
        model.Forward(tensor(Prompt, [1, Prompt.Length]), cache: fastCache);
        model.Forward(tensor(Prompt, [1, Prompt.Length]), noHooks, generalCache);

        foreach (long token in Steps)
        {
            var fast = model.Forward(tensor(new[] { token }, [1, 1]), cache: fastCache, lastPositionOnly: true);
            var general = model.Forward(tensor(new[] { token }, [1, 1]), noHooks, generalCache, lastPositionOnly: true);
            Assert.Equal(general.shape, fast.shape);
            double scale = general.abs().max().item<float>();
            double distance = (fast - general).abs().max().item<float>();
            Assert.True(distance <= 1e-5 * scale, $"{name}, token {token}: {distance:E2} from the general path (scale {scale:E2})");
        }
        Assert.Equal(Prompt.Length + Steps.Length, fastCache.Length);
        Assert.NotNull(fastCache.Workspace);   // the fast path ran
        Assert.Null(generalCache.Workspace);   // the general path ran
    }

    [Fact]
    public void DecodeStepsMatchTheFullForwardPassInFloat64()
    {
        var config = ConfigNamed("grok-2 features");
        using var model = TestModels.Random(config);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long[] all = [.. Prompt, .. Steps];
        using var cache = new KvCache(model, 1, 16);
        model.Forward(tensor(Prompt, [1, Prompt.Length]), cache: cache);
        var stepped = Steps.Select(token => model.Forward(tensor(new[] { token }, [1, 1]), cache: cache)).ToList();

        // The same weights in float64 through the general path: the reference the float32 step must stay close to.
        using var exact = new GrokModel(config, new Float64Weights(new GrokLens.Loading.RandomWeightSource(7)));
        var reference = exact.Forward(tensor(all, [1, all.Length]));
        Assert.Equal(ScalarType.Float64, reference.dtype);
        for (int i = 0; i < Steps.Length; i++)
        {
            var expected = reference[0, Prompt.Length + i];
            var actual = stepped[i][0, 0].to_type(ScalarType.Float64);
            double scale = expected.abs().max().item<double>();
            double distance = (actual - expected).abs().max().item<double>();
            Assert.True(distance <= 1e-4 * scale, $"step {i}: {distance:E2} from float64 (scale {scale:E2})");
        }
    }

    [Fact]
    public async Task SequencesDecodedAtOnceOnOneModelGetTheirOwnTokens()
    {
        // Each sequence's scratch vectors live with its cache and one shared product runs at a time: sequences generated
        // on several threads at once (a server's sessions) give what each gives alone.
        using var model = TestModels.RandomLoaded(ConfigNamed("wide (vectorised loops, shared rows)"));
        int[][] prompts = [[5, 17, 3, 88], [9, 0, 41], [100, 200, 300, 400, 500], [7]];
        var options = new GrokLens.Generation.SamplingOptions { MaxNewTokens = 24, Temperature = 1.2, Seed = 5, StopAtEos = false };
        List<int> Generate(int[] prompt) => GrokLens.Generation.TextGenerator.Generate(model, prompt, options).Select(t => t.Id).ToList();
        var alone = prompts.Select(Generate).ToList();
        for (int round = 0; round < 3; round++)
        {
            var together = await Task.WhenAll(prompts.Select(prompt => Task.Run(() => Generate(prompt))));
            for (int i = 0; i < prompts.Length; i++) Assert.Equal(alone[i], together[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void AModelSplitIntoLayerRangesDecodesBitForBitAsOne(string name)
    {
        // A cluster's shards each decode their layers and pass the residual stream on (ShardSession); the logits must be
        // exactly those of the whole model's step, so generation through a cluster equals generation in-process.
        var config = ConfigNamed(name) with { NumLayers = 3 };
        using var model = TestModels.Random(config);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var whole = new KvCache(model, 1, 16);
        using var front = new KvCache(model, 1, 16, new LayerRange(0, 0));
        using var back = new KvCache(model, 1, 16, new LayerRange(1, 2));
        var prompt = tensor(Prompt, [1, Prompt.Length]);
        model.Forward(prompt, cache: whole);
        // The prompt through the parts on the general path, as a shard runs it.
        var frontContext = model.Prepare(prompt, null, front);
        var middle = model.RunLayers(model.Embed(prompt, frontContext), 0, 1, frontContext);
        front.Advance(Prompt.Length);
        model.RunLayers(middle, 1, 2, model.Prepare(prompt, null, back));
        back.Advance(Prompt.Length);

        foreach (long token in Steps)
        {
            var step = tensor(new[] { token }, [1, 1]);
            var expected = model.Forward(step, cache: whole, lastPositionOnly: true);
            var residual = model.TryDecodeLayers(step, null, null, front, 0, 1, unembed: false);
            Assert.NotNull(residual);
            Assert.Equal([1L, 1, config.HiddenSize], residual!.shape);
            var logits = model.TryDecodeLayers(step, residual, null, back, 1, 2, unembed: true);
            Assert.NotNull(logits);
            front.Advance(1);
            back.Advance(1);
            Assert.True(expected.eq(logits!).all().item<bool>(), $"{name}, token {token}: the split model's logits differ from the whole model's");
        }
        // A part that needs weights, a cache layer or an embedding it has not got is not decoded here.
        var one = tensor(new[] { 3L }, [1, 1]);
        Assert.Null(model.TryDecodeLayers(one, null, null, back, 1, 2, unembed: true));      // no residual and not layer 0
        Assert.Null(model.TryDecodeLayers(one, null, null, front, 0, 2, unembed: true));     // layer 1 not in this cache
        using var hooks = new ForwardHooks();
        Assert.Null(model.TryDecodeLayers(one, null, hooks, front, 0, 1, unembed: false));   // a hooks object: general path
    }

    [Fact]
    public void HooksOrGradientsTakeTheGeneralPath()
    {
        using var model = TestModels.Random();
        using var scope = NewDisposeScope();
        using var withGradients = new KvCache(model, 1, 8);
        model.Forward(tensor(new long[] { 5, 6 }, [1, 2]), cache: withGradients);
        model.Forward(tensor(new long[] { 7 }, [1, 1]), cache: withGradients);
        Assert.Null(withGradients.Workspace);

        using var noGrad = no_grad();
        using var hooked = new KvCache(model, 1, 8);
        using var hooks = new ForwardHooks().Capture("blocks.0.hook_resid_post");
        model.Forward(tensor(new long[] { 5, 6 }, [1, 2]), hooks, hooked);
        model.Forward(tensor(new long[] { 7 }, [1, 1]), hooks, hooked);
        Assert.Null(hooked.Workspace);
        Assert.Equal(2, hooks.TakeCaptured().Count);
    }

    [Fact]
    public void ADecodeStepRefusesAFullCacheAndUnknownTokens()
    {
        using var model = TestModels.Random();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var cache = new KvCache(model, 1, 3);
        model.Forward(tensor(new long[] { 1, 2 }, [1, 2]), cache: cache);
        var unknown = Assert.Throws<ArgumentException>(() => model.Forward(tensor(new long[] { 97 }, [1, 1]), cache: cache));
        Assert.Contains("outside the vocabulary", unknown.Message);
        model.Forward(tensor(new long[] { 3 }, [1, 1]), cache: cache);
        var full = Assert.Throws<InvalidOperationException>(() => model.Forward(tensor(new long[] { 4 }, [1, 1]), cache: cache));
        Assert.Contains("capacity 3", full.Message);
        Assert.Equal(3, cache.Length);
    }

    /// <summary>The same random weights as float64 tensors.</summary>
    private sealed class Float64Weights(IWeightSource source) : IWeightSource
    {
        public Tensor Create(WeightId id, long[] shape)
        {
            using var weight = source.Create(id, shape);
            return weight.to_type(ScalarType.Float64);
        }
    }
}
