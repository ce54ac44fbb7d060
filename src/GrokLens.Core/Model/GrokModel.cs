using GrokLens.Hooks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Model;

/// <summary>
/// The Grok-1 transformer (SPEC §2): tied embedding × embedding multiplier, the decoder layers, a final RMSNorm and
/// logits = z·Eᵀ × output multiplier. Computes in the dtype of its weights (float32) on the device they live on.
/// </summary>
public sealed class GrokModel : nn.Module
{
    public readonly Parameter embedding;
    public readonly ModuleList<GrokDecoderLayer> layers;
    public readonly RmsNorm finalNorm;
    public readonly Parameter? unembedding;
    private readonly RotaryEmbedding rotary;

    public GrokModel(GrokConfig config, IWeightSource weights) : base("grok")
    {
        Config = config.Validated();
        var builder = new ParameterBuilder(weights);
        embedding = builder.Create(GrokParameterNames.Embedding, [config.VocabSize, config.HiddenSize]);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumLayers)
            .Select(layer => new GrokDecoderLayer(layer, config, builder)).ToArray());
        finalNorm = new RmsNorm(GrokParameterNames.FinalNorm, config.HiddenSize, config.RmsNormEps, builder);
        if (!config.TieWordEmbeddings)
            unembedding = builder.Create(GrokParameterNames.LmHead, [config.VocabSize, config.HiddenSize]);
        rotary = new RotaryEmbedding(config.HeadDim, config.RopeTheta);
        NamedWeights = builder.Created;
        RegisterComponents();
    }

    public GrokConfig Config { get; }

    public Device Device => embedding.device;

    /// <summary>Supplies layer weights per layer (int8, streaming); null when every weight is resident.</summary>
    public ILayerWeights? LayerWeights { get; set; }

    /// <summary>Every weight under its canonical name (see <see cref="GrokParameterNames"/>).</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> NamedWeights { get; }

    /// <summary>
    /// Runs the model on token ids [B, T] (int64) and returns logits [B, T, V], or [B, 1, V] for the last position only
    /// when <paramref name="lastPositionOnly"/> is set and nobody hooks the logits. With a cache, positions continue
    /// after the cached ones and the new keys and values are appended.
    /// </summary>
    public Tensor Forward(Tensor tokens, ForwardHooks? hooks = null, KvCache? cache = null, bool lastPositionOnly = false)
    {
        if (tokens.dim() != 2 || tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"Token ids must be an int64 tensor [batch, positions]; got {tokens.dtype} [{string.Join(", ", tokens.shape)}].");
        long batch = tokens.shape[0], length = tokens.shape[1];
        int offset = cache?.Length ?? 0;
        if (length == 0) throw new ArgumentException("At least one token is needed.");
        if (offset + length > Config.MaxPositions)
            throw new ArgumentException($"{offset + length} positions exceed the model's context of {Config.MaxPositions} tokens.");
        CheckTokenRange(tokens);
        if (hooks is not null) hooks.PositionOffset = offset;

        var device = Device;
        tokens = tokens.to(device);
        var isToken = tokens.ne(Config.PadTokenId);
        var keyIsToken = cache?.AppendKeyIsToken(isToken) ?? isToken;
        long keyLength = offset + length;
        var causal = ones(length, keyLength, dtype: ScalarType.Bool, device: device).tril(offset);
        var allowed = causal.unsqueeze(0).unsqueeze(0).logical_and(keyIsToken.view(batch, 1, 1, keyLength));
        var (cos, sin) = rotary.Tables(offset, (int)length, device);
        var context = new ForwardContext(cos, sin, allowed, cache, hooks);

        var residual = embedding.index_select(0, tokens.reshape(-1)).view(batch, length, Config.HiddenSize)
            .mul(Config.EmbeddingMultiplier);
        residual = hooks.Hook(HookPoints.Embed, null, residual);
        for (int index = 0; index < layers.Count; index++)
        {
            // Each layer's intermediates are freed when it ends; only the residual stream moves on, to the layer's device.
            using var scope = NewDisposeScope();
            using var present = LayerWeights?.Acquire(index);
            var layerDevice = layers[index].Device;
            context = context.On(layerDevice);
            residual = layers[index].Forward(residual.On(layerDevice), context).MoveToOuterDisposeScope();
        }
        residual = residual.On(device);
        var normed = hooks.Hook(HookPoints.FinalNorm, null, finalNorm.Forward(residual));
        if (lastPositionOnly && !hooks.Wants(HookPoints.Logits)) normed = normed.narrow(1, length - 1, 1);
        var logits = linear(normed, unembedding ?? embedding).mul(Config.OutputMultiplier);
        logits = hooks.Hook(HookPoints.Logits, null, logits);
        cache?.Advance((int)length);
        return logits;
    }

    private void CheckTokenRange(Tensor tokens)
    {
        long min = tokens.min().item<long>(), max = tokens.max().item<long>();
        if (min < 0 || max >= Config.VocabSize)
            throw new ArgumentException($"Token id {(min < 0 ? min : max)} is outside the vocabulary 0…{Config.VocabSize - 1}.");
    }
}
