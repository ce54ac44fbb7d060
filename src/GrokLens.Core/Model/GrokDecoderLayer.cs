using GrokLens.Hooks;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>
/// One Grok-1 decoder layer (SPEC §2.3):
/// h ← h + RMSNorm₁(Attn(RMSNorm₀(h))); h ← h + RMSNorm₃(MoE(RMSNorm₂(h))).
/// </summary>
public sealed class GrokDecoderLayer : nn.Module
{
    public readonly RmsNorm preAttentionNorm;
    public readonly GrokAttention attention;
    public readonly RmsNorm postAttentionNorm;
    public readonly RmsNorm preMoeNorm;
    public readonly GrokMoE moe;
    public readonly RmsNorm postMoeNorm;
    public LayerHookNames Names { get; }

    /// <summary>Where this layer's weights live (a device map may spread layers over devices).</summary>
    public Device Device => preAttentionNorm.weight.device;

    public GrokDecoderLayer(int layer, GrokConfig config, ParameterBuilder weights) : base($"layer{layer}")
    {
        var prefix = GrokParameterNames.Layer(layer);
        Names = new LayerHookNames(layer);
        preAttentionNorm = new RmsNorm(prefix + ".rms_norm.weight", config.HiddenSize, config.RmsNormEps, weights);
        attention = new GrokAttention(prefix + ".multi_head_attention", config, weights);
        postAttentionNorm = new RmsNorm(prefix + ".rms_norm_1.weight", config.HiddenSize, config.RmsNormEps, weights);
        preMoeNorm = new RmsNorm(prefix + ".rms_norm_2.weight", config.HiddenSize, config.RmsNormEps, weights);
        moe = new GrokMoE(prefix, config, weights);
        postMoeNorm = new RmsNorm(prefix + ".rms_norm_3.weight", config.HiddenSize, config.RmsNormEps, weights);
        RegisterComponents();
    }

    public Tensor Forward(Tensor residual, ForwardContext context)
    {
        var hooks = context.Hooks;
        var n = Names;
        residual = hooks.Hook(n.ResidPre, n.Layer, residual);

        var attentionInput = hooks.Hook(n.AttnInput, n.Layer, preAttentionNorm.Forward(residual));
        var attentionOutput = attention.Forward(attentionInput, n, context);
        var attentionBranch = hooks.Hook(n.AttnOutNormed, n.Layer, postAttentionNorm.Forward(attentionOutput));
        residual = hooks.Hook(n.ResidMid, n.Layer, residual + attentionBranch);

        var moeInput = hooks.Hook(n.MoeInput, n.Layer, preMoeNorm.Forward(residual));
        var moeOutput = moe.Forward(moeInput, n, context);
        var moeBranch = hooks.Hook(n.MoeOutNormed, n.Layer, postMoeNorm.Forward(moeOutput));
        return hooks.Hook(n.ResidPost, n.Layer, residual + moeBranch);
    }
}
