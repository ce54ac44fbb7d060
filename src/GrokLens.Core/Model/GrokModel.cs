using GrokLens.Hooks;
using GrokLens.Kernels;
using GrokLens.Model.SingleToken;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Model;

/// <summary>
/// The Grok transformer (SPEC §2, §6.3): embedding × embedding multiplier, the decoder layers, a final RMSNorm and
/// logits = z·Eᵀ × output multiplier (E tied to the embedding in Grok-1, Grok-2's own head otherwise), soft-capped in
/// Grok-2. Computes in the dtype of its weights (float32) on the device they live on.
/// </summary>
public sealed class GrokModel : nn.Module
{
    public readonly Parameter embedding;
    public readonly ModuleList<GrokDecoderLayer> layers;
    public readonly RmsNorm finalNorm;
    public readonly Parameter? unembedding;
    private readonly RotaryEmbedding rotary;
    private readonly ILayerMatrixSource? matrixSource;
    private readonly SingleTokenDecoder singleToken;

    /// <param name="weights">Supplies every parameter as the modules are built.</param>
    /// <param name="matrixSource">
    /// Supplies the decoder layers' projection matrices when they run (int8 weights, layer streaming); the model then
    /// holds no parameters for them and owns the source. Null: the matrices are parameters from <paramref name="weights"/>.
    /// </param>
    public GrokModel(GrokConfig config, IWeightSource weights, ILayerMatrixSource? matrixSource = null) : base("grok")
    {
        Config = config.Validated();
        this.matrixSource = matrixSource;
        var builder = new ParameterBuilder(weights);
        embedding = builder.Create(WeightId.Global(WeightKind.Embedding), [config.VocabSize, config.HiddenSize]);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumLayers)
            .Select(layer => new GrokDecoderLayer(layer, config, builder, residentMatrices: matrixSource is null)).ToArray());
        finalNorm = new RmsNorm(WeightId.Global(WeightKind.FinalNorm), config.HiddenSize, config.RmsNormEps, builder);
        if (!config.TieWordEmbeddings)
            unembedding = builder.Create(WeightId.Global(WeightKind.OutputHead), [config.VocabSize, config.HiddenSize]);
        rotary = new RotaryEmbedding(config.HeadDim, config.RopeTheta);
        Weights = builder.Created;
        singleToken = new SingleTokenDecoder(this);
        // A model holding only some layers (a cluster shard) may have no embedding: it computes where its layers live.
        Device = embedding.device_type != DeviceType.META ? embedding.device
            : layers.Select(layer => layer.Device).FirstOrDefault(device => device.type != DeviceType.META) ?? embedding.device;
        RegisterComponents();
    }

    public GrokConfig Config { get; }

    /// <summary>Where the embedding lives (layer 0's device), or the first held layer's device when it has none.</summary>
    public Device Device { get; }

    /// <summary>Every parameter with the weight it is. Matrices supplied by a <see cref="MatrixSource"/> are not among them.</summary>
    public IReadOnlyList<(WeightId Id, Parameter Parameter)> Weights { get; }

    /// <summary>Where the layers' matrices come from when they are not parameters (int8, streaming); null when resident.</summary>
    public ILayerMatrixSource? MatrixSource => matrixSource;

    /// <summary>Every weight of a model with this config and its shape, in build order (built on the meta device).</summary>
    public static IReadOnlyList<(WeightId Id, long[] Shape)> Inventory(GrokConfig config)
    {
        var recorder = new ShapeRecorder();
        using var model = new GrokModel(config, recorder);
        return recorder.Shapes;
    }

    /// <summary>
    /// Runs the model on token ids [B, T] (int64) and returns logits [B, T, V], or [B, 1, V] for the last position only
    /// when <paramref name="lastPositionOnly"/> is set and nobody hooks the logits. With a cache, positions continue
    /// after the cached ones and the new keys and values are appended.
    /// </summary>
    public Tensor Forward(Tensor tokens, ForwardHooks? hooks = null, KvCache? cache = null, bool lastPositionOnly = false)
    {
        // A decode step with nothing hooked: the same arithmetic without the per-operation cost of torch calls.
        if (singleToken.Handles(tokens, hooks, cache)) return singleToken.Run(tokens, cache!);
        var context = Prepare(tokens, hooks, cache);
        var residual = Embed(tokens, context);
        residual = RunLayers(residual, 0, layers.Count, context);
        var logits = Unembed(residual, context, lastPositionOnly);
        cache?.Advance((int)tokens.shape[1]);
        return logits;
    }

    /// <summary>
    /// Checks the token ids and builds what every layer of this call shares: RoPE tables for the positions after the
    /// cached ones, the causal and pad mask, the cache and the hooks. Call <see cref="KvCache.Advance"/> after the last layer.
    /// </summary>
    public ForwardContext Prepare(Tensor tokens, ForwardHooks? hooks, KvCache? cache)
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
        var onDevice = tokens.to(device);
        var isToken = onDevice.ne(Config.PadTokenId);
        var keyIsToken = cache?.AppendKeyIsToken(isToken) ?? isToken;
        long keyLength = offset + length;
        var causal = ones(length, keyLength, dtype: ScalarType.Bool, device: device).tril(offset);
        var allowed = causal.unsqueeze(0).unsqueeze(0).logical_and(keyIsToken.view(batch, 1, 1, keyLength));
        var (cos, sin) = rotary.Tables(offset, (int)length, device);
        return new ForwardContext(cos, sin, allowed, cache, hooks, AttentionTemperature(offset, (int)length, device));
    }

    /// <summary>
    /// τ(p) = log₂(p)/log₂(L) for query positions p &gt; L = attn_temperature_len, else 1 (SPEC §6.3.3), as [T, 1]; null when
    /// every τ is 1. Computed in float64, then rounded once to float32.
    /// </summary>
    private Tensor? AttentionTemperature(int offset, int length, Device device)
    {
        int limit = Config.AttnTemperatureLen;
        if (limit <= 0 || offset + length - 1 <= limit) return null;
        var factors = Enumerable.Range(offset, length)
            .Select(p => p > limit ? (float)(Math.Log2(p) / Math.Log2(limit)) : 1f).ToArray();
        return tensor(factors, [length, 1], device: device);
    }

    /// <summary>E[t] × embedding multiplier: the residual stream entering layer 0, [B, T, D].</summary>
    public Tensor Embed(Tensor tokens, ForwardContext context)
    {
        long batch = tokens.shape[0], length = tokens.shape[1];
        using var ids = tokens.to(Device).reshape(-1);
        var residual = embedding.index_select(0, ids).view(batch, length, Config.HiddenSize).mul(Config.EmbeddingMultiplier);
        return context.Hooks.Hook(HookPoints.Embed, null, residual);
    }

    /// <summary>Runs layers first … first+count−1 on the residual stream; the result is on the last layer's device.</summary>
    public Tensor RunLayers(Tensor residual, int first, int count, ForwardContext context)
    {
        if (first < 0 || count < 0 || first + count > layers.Count)
            throw new ArgumentOutOfRangeException(nameof(first), $"Layers {first}…{first + count - 1} are outside 0…{layers.Count - 1}.");
        for (int index = first; index < first + count; index++)
        {
            // Each layer's intermediates are freed when it ends; only the residual stream moves on, to the layer's device.
            using var scope = NewDisposeScope();
            var layer = layers[index];
            using var matrices = matrixSource?.Acquire(index) ?? layer.matrices!.Matrices;
            var layerContext = context.On(layer.Device);
            residual = layer.Forward(residual.On(layer.Device), matrices, layerContext).MoveToOuterDisposeScope();
        }
        return residual;
    }

    /// <summary>
    /// Final RMSNorm, then the logits (see <see cref="Logits"/>); hooks <c>hook_final_norm</c>, <c>hook_logits_uncapped</c>
    /// (with a final soft-cap) and <c>logits</c>.
    /// </summary>
    public Tensor Unembed(Tensor residual, ForwardContext context, bool lastPositionOnly = false)
    {
        var hooks = context.Hooks;
        var normed = hooks.Hook(HookPoints.FinalNorm, null, finalNorm.Forward(residual.On(Device)));
        bool wantsAll = hooks.Wants(HookPoints.Logits) || hooks.Wants(HookPoints.LogitsUncapped);
        Tensor? logits = null;
        if (lastPositionOnly && !wantsAll)
        {
            normed = normed.narrow(1, normed.shape[1] - 1, 1);
            logits = LastRowLogits(normed);
        }
        logits ??= UncappedLogits(normed);
        if (Config.FinalLogitSoftcap > 0)
            logits = FinalSoftcap(hooks.Hook(HookPoints.LogitsUncapped, null, logits));
        return hooks.Hook(HookPoints.Logits, null, logits);
    }

    /// <summary>
    /// Logits of final-normed residuals [..., D]: z·Eᵀ × output multiplier (E the tied embedding or Grok-2's untied head),
    /// then Grok-2's final soft-cap. The one unembedding the model, the logit lens and logit attribution share.
    /// </summary>
    public Tensor Logits(Tensor normed) => FinalSoftcap(UncappedLogits(normed));

    /// <summary>
    /// A decode step of layers first … first+count−1 only (a cluster shard's part) through the single-token decoder, from
    /// the token's embedding (<paramref name="residual"/> null, first = 0) or the previous part's residual stream [1, 1, D];
    /// returns the logits [1, 1, V] when <paramref name="unembed"/>, else the residual stream for the next part, and leaves
    /// advancing <paramref name="cache"/> to the caller. Null when the decoder does not apply (anything hooked, several
    /// tokens, weights not resident float32): the caller runs <see cref="Prepare"/>, <see cref="RunLayers"/> and the rest.
    /// </summary>
    public Tensor? TryDecodeLayers(Tensor tokens, Tensor? residual, ForwardHooks? hooks, KvCache cache, int first, int count, bool unembed)
    {
        bool embed = residual is null;
        if (embed && first != 0) return null;
        if (residual is not null && (residual.device_type != DeviceType.CPU || !residual.is_contiguous())) return null;
        return singleToken.HandlesLayers(tokens, hooks, cache, first, count, embed, unembed)
            ? singleToken.RunLayers(tokens, residual, cache, first, count, unembed)
            : null;
    }

    /// <summary>z·Eᵀ × output multiplier, before any final soft-cap: the part that is linear in the normed residual.</summary>
    public Tensor UncappedLogits(Tensor normed) => linear(normed, OutputHead).mul(Config.OutputMultiplier);

    /// <summary>
    /// <see cref="UncappedLogits"/> of a single row (the last position of a generation's prompt) through <see cref="FloatGemv"/>, which reads a
    /// resident float32 head about twice as fast as torch's linear on one row; null when that does not apply.
    /// </summary>
    private Tensor? LastRowLogits(Tensor normed)
    {
        if (normed.shape[0] != 1 || normed.shape[1] != 1) return null;
        using var product = FloatGemv.TryMultiplyRow(OutputHead, normed);
        return product?.mul(Config.OutputMultiplier);
    }

    /// <summary>cap·tanh(z/cap) with final_logit_softcapping, or z unchanged without one.</summary>
    public Tensor FinalSoftcap(Tensor logits) =>
        Config.FinalLogitSoftcap > 0 ? logits.div(Config.FinalLogitSoftcap).tanh().mul(Config.FinalLogitSoftcap) : logits;

    /// <summary>The matrix that maps normed residuals to logits, [V, D]: the untied head or the tied embedding.</summary>
    public Parameter OutputHead => unembedding ?? embedding;

    private void CheckTokenRange(Tensor tokens)
    {
        long min = tokens.min().item<long>(), max = tokens.max().item<long>();
        if (min < 0 || max >= Config.VocabSize)
            throw new ArgumentException($"Token id {(min < 0 ? min : max)} is outside the vocabulary 0…{Config.VocabSize - 1}.");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) matrixSource?.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Meta tensors that remember the shapes asked for.</summary>
    private sealed class ShapeRecorder : IWeightSource
    {
        public List<(WeightId Id, long[] Shape)> Shapes { get; } = new();

        public Tensor Create(WeightId id, long[] shape)
        {
            Shapes.Add((id, shape));
            return empty(shape, dtype: ScalarType.Float32, device: new Device(DeviceType.META));
        }
    }
}
