using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>What every layer of one forward call shares: RoPE tables, the attention mask, the cache and the hooks.</summary>
/// <param name="Cos">RoPE cosines for this call's positions, [T, d/2].</param>
/// <param name="Sin">RoPE sines, [T, d/2].</param>
/// <param name="AllowedKeys">True where a query may attend to a key (causal and not a pad key), [B, 1, T, Tk].</param>
/// <param name="Temperature">
/// Grok-2's attention temperature per query, [T, 1]: log₂(p)/log₂(L) for positions p past L, else 1; null when no query of
/// this call is past L (or the model has none).
/// </param>
public sealed record ForwardContext(Tensor Cos, Tensor Sin, Tensor AllowedKeys, KvCache? Cache, ForwardHooks? Hooks, Tensor? Temperature = null)
{
    /// <summary>This context with its tables on <paramref name="device"/> (itself when they are already there).</summary>
    public ForwardContext On(Device device) =>
        Cos.IsOn(device) ? this : this with
        {
            Cos = Cos.On(device), Sin = Sin.On(device), AllowedKeys = AllowedKeys.On(device), Temperature = Temperature?.On(device),
        };
}

internal static class DeviceMoves
{
    public static bool IsOn(this Tensor tensor, Device device) =>
        tensor.device_type == device.type && (device.index < 0 || tensor.device_index == device.index);

    /// <summary>The tensor moved to <paramref name="device"/>, disposing the original when a copy was made.</summary>
    public static Tensor MovedTo(this Tensor tensor, Device device)
    {
        if (tensor.IsOn(device)) return tensor;
        using (tensor) return tensor.to(device);
    }

    /// <summary>The tensor on <paramref name="device"/>, copying only when it lives elsewhere.</summary>
    public static Tensor On(this Tensor tensor, Device device) => tensor.IsOn(device) ? tensor : tensor.to(device);
}
