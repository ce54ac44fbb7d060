using GrokLens.Checkpoints;

namespace GrokLens.Model;

/// <summary>
/// A layer's expert matrices kept as int8 with scales (weight-only int8, layer streaming), each [E, out, in]. The MoE
/// dequantises one expert's matrix at a time, only for experts that tokens were routed to, just before its matmul.
/// </summary>
public sealed record QuantizedExperts(QuantizedWeight Gate, QuantizedWeight Up, QuantizedWeight Down);
