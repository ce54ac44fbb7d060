using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>Grok-2's dense MLP beside the experts (SPEC §6.3.1): down(gelu(x·gate) ⊙ x·up), on the pre-MoE-normed input.</summary>
public sealed class GrokMlp
{
    /// <param name="x">Pre-MoE-normed input [B, T, D].</param>
    public Tensor Forward(Tensor x, MlpMatrices w, LayerHookNames names, ForwardContext context)
    {
        var hooks = context.Hooks;
        int layer = names.Layer;
        var gateInput = hooks.Hook(names.MlpPre, layer, w.Gate.Multiply(x));
        var neurons = hooks.Hook(names.MlpPost, layer, Gelu.Tanh(gateInput) * w.Up.Multiply(x));
        return hooks.Hook(names.MlpOut, layer, w.Down.Multiply(neurons));
    }
}
