using GrokLens.Hooks;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>
/// One Grok decoder layer (SPEC §2.3, §6.3.1):
/// h ← h + RMSNorm₁(Attn(RMSNorm₀(h))); m = RMSNorm₂(h); h ← h + RMSNorm₃(MoE(m)), or in Grok-2's residual MoE
/// h ← h + RMSNorm₃((MLP(m) + MoE(m))/√2).
/// </summary>
public sealed class GrokDecoderLayer : nn.Module
{
    public readonly RmsNorm preAttentionNorm;
    public readonly RmsNorm postAttentionNorm;
    public readonly RmsNorm preMoeNorm;
    public readonly GrokMoE moe;
    public readonly RmsNorm postMoeNorm;

    /// <summary>The layer's projection matrices as parameters; null when a <see cref="ILayerMatrixSource"/> supplies them.</summary>
    public readonly LayerMatrixParameters? matrices;

    private readonly GrokAttention attention;
    private readonly GrokMlp? mlp;

    public LayerHookNames Names { get; }

    /// <summary>Where this layer's weights live (a device map may spread layers over devices).</summary>
    public Device Device => preAttentionNorm.weight.device;

    public GrokDecoderLayer(int layer, GrokConfig config, ParameterBuilder weights, bool residentMatrices) : base($"layer{layer}")
    {
        Names = new LayerHookNames(layer);
        preAttentionNorm = new RmsNorm(new(WeightKind.PreAttentionNorm, layer), config.HiddenSize, config.RmsNormEps, weights);
        postAttentionNorm = new RmsNorm(new(WeightKind.PostAttentionNorm, layer), config.HiddenSize, config.RmsNormEps, weights);
        preMoeNorm = new RmsNorm(new(WeightKind.PreMoeNorm, layer), config.HiddenSize, config.RmsNormEps, weights);
        moe = new GrokMoE(layer, config, weights);
        postMoeNorm = new RmsNorm(new(WeightKind.PostMoeNorm, layer), config.HiddenSize, config.RmsNormEps, weights);
        if (residentMatrices) matrices = new LayerMatrixParameters(layer, config, weights);
        attention = new GrokAttention(config);
        if (config.ResidualMoe) mlp = new GrokMlp();
        RegisterComponents();
    }

    public Tensor Forward(Tensor residual, LayerMatrices w, ForwardContext context)
    {
        var hooks = context.Hooks;
        var n = Names;
        residual = hooks.Hook(n.ResidPre, n.Layer, residual);

        var attentionInput = hooks.Hook(n.AttnInput, n.Layer, preAttentionNorm.Forward(residual));
        var attentionOutput = attention.Forward(attentionInput, w.Attention, n, context);
        var attentionBranch = hooks.Hook(n.AttnOutNormed, n.Layer, postAttentionNorm.Forward(attentionOutput));
        residual = hooks.Hook(n.ResidMid, n.Layer, residual + attentionBranch);

        var moeInput = hooks.Hook(n.MoeInput, n.Layer, preMoeNorm.Forward(residual));
        var feedForward = moe.Forward(moeInput, w.Experts, n, context);
        if (mlp is not null)
        {
            var dense = mlp.Forward(moeInput, w.Mlp ?? throw new InvalidOperationException(
                $"Layer {n.Layer} is a residual-MoE layer but no dense MLP matrices were supplied."), n, context);
            feedForward = hooks.Hook(n.FfnOut, n.Layer, (dense + feedForward).div(Math.Sqrt(2)));
        }
        var moeBranch = hooks.Hook(n.MoeOutNormed, n.Layer, postMoeNorm.Forward(feedForward));
        return hooks.Hook(n.ResidPost, n.Layer, residual + moeBranch);
    }
}
