using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>What every layer of one forward call shares: RoPE tables, the attention mask, the cache and the hooks.</summary>
/// <param name="Cos">RoPE cosines for this call's positions, [T, d/2].</param>
/// <param name="Sin">RoPE sines, [T, d/2].</param>
/// <param name="AllowedKeys">True where a query may attend to a key (causal and not a pad key), [B, 1, T, Tk].</param>
public sealed record ForwardContext(Tensor Cos, Tensor Sin, Tensor AllowedKeys, KvCache? Cache, ForwardHooks? Hooks);
