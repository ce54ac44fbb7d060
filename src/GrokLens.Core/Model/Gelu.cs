using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Model;

/// <summary>
/// The GELU of the experts and Grok-2's dense MLP: the tanh approximation, jax.nn.gelu's default in xAI's code
/// (SPEC §2.5). The grok2-mini reference uses it too: it agrees to 1e-6, and the erf form (SGLang's, for Grok-2's dense
/// MLP) misses its logits by 1.8e-4. Converted configs' hidden_act ("silu", "gelu") is not followed (SPEC §7 row 3).
/// </summary>
public static class Gelu
{
    public static Tensor Tanh(Tensor x) => gelu(x, TorchSharp.Modules.GELU.Approximate.tanh);
}
