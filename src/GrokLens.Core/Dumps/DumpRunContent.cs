using GrokLens.Interventions;
using static TorchSharp.torch;

namespace GrokLens.Dumps;

/// <summary>One run to store: prompt, tokens, interventions applied and the hook tensors (no batch dimension).</summary>
public sealed record DumpRunContent(
    string Id,
    string? Prompt,
    IReadOnlyList<int> TokenIds,
    IReadOnlyList<string>? Pieces,
    IReadOnlyList<Intervention> Interventions,
    IReadOnlyList<(string Hook, Tensor Tensor)> Hooks);
