using static TorchSharp.torch;

namespace GrokLens.Hooks;

/// <summary>What a hook function is told about the activation it receives.</summary>
/// <param name="Name">Hook point name.</param>
/// <param name="Layer">Decoder layer, or null.</param>
/// <param name="PositionOffset">Absolute position of the first token of this call (non-zero with a KV cache).</param>
public sealed record HookContext(string Name, int? Layer, int PositionOffset);

/// <summary>
/// Called with an activation (batch dimension first, e.g. [B, T, D]). Return null to keep it, or a tensor of the same
/// shape (dtype and device) to replace it; the rest of the forward pass then uses the replacement.
/// </summary>
public delegate Tensor? HookFunction(Tensor activation, HookContext context);
