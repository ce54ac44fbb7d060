using static TorchSharp.torch;

namespace GrokLens.Checkpoints;

/// <summary>
/// A weight kept as int8 with symmetric scales (weight-only int8): <see cref="Values"/> [..., out, in] int8 and
/// <see cref="Scales"/> [..., out, in/BlockSize] float32, one scale per run of <see cref="BlockSize"/> inputs of an
/// output row. W[..., o, i] = q[..., o, i] · s[..., o, ⌊i/BlockSize⌋]. This covers ggml's Q8_0 (blocks of 32) and
/// xAI's QuantizedWeight8bit (one block per input row block, SPEC §4.3, after transposing to [out, in]).
/// </summary>
public sealed class QuantizedWeight : IDisposable
{
    public QuantizedWeight(Tensor values, Tensor scales, int blockSize, bool roundToBFloat16)
    {
        if (values.dtype != ScalarType.Int8) throw new ArgumentException($"Quantized values must be int8, got {values.dtype}.");
        if (scales.dtype != ScalarType.Float32) throw new ArgumentException($"Scales must be float32, got {scales.dtype}.");
        var expected = values.shape[..^1].Append(values.shape[^1] / blockSize).ToArray();
        if (values.shape[^1] % blockSize != 0 || !scales.shape.SequenceEqual(expected))
            throw new ArgumentException($"Scales [{string.Join(", ", scales.shape)}] do not fit values [{string.Join(", ", values.shape)}] " +
                                        $"in blocks of {blockSize}.");
        Values = values;
        Scales = scales;
        BlockSize = blockSize;
        RoundToBFloat16 = roundToBFloat16;
    }

    public Tensor Values { get; }
    public Tensor Scales { get; }
    public int BlockSize { get; }

    /// <summary>xAI computes bf16(q·s) (SPEC §4.3); ggml computes q·d in float32.</summary>
    public bool RoundToBFloat16 { get; }

    public long[] Shape => Values.shape;

    /// <summary>Bytes held: one per value plus four per scale.</summary>
    public long ByteSize => Values.NumberOfElements + 4 * Scales.NumberOfElements;

    /// <summary>The float32 weight on the values' device.</summary>
    public Tensor Dequantize() => Dequantize(Values, Scales);

    /// <summary>Expert <paramref name="index"/> of a stacked [E, out, in] weight, without dequantising the others.</summary>
    public Tensor Dequantize(long index)
    {
        using var values = Values[index];
        using var scales = Scales[index];
        return Dequantize(values, scales);
    }

    /// <summary>In place where possible, so one matrix costs one float32 copy (plus a bfloat16 one while rounding).</summary>
    private Tensor Dequantize(Tensor values, Tensor scales)
    {
        var blockedShape = values.shape[..^1].Concat([scales.shape[^1], BlockSize]).ToArray();
        var weight = values.to_type(ScalarType.Float32);
        using (var blocked = weight.view(blockedShape))
        using (var blockScales = scales.unsqueeze(-1))
            blocked.mul_(blockScales);
        if (!RoundToBFloat16) return weight;
        using var rounded = weight.to_type(ScalarType.BFloat16);
        weight.Dispose();
        return rounded.to_type(ScalarType.Float32);
    }

    public QuantizedWeight To(Device device) =>
        device.type == TorchSharp.DeviceType.CPU && Values.device_type == TorchSharp.DeviceType.CPU
            ? this
            : new QuantizedWeight(Values.to(device), Scales.to(device), BlockSize, RoundToBFloat16);

    /// <summary>Stacks per-expert weights into one [E, out, in] weight, disposing the parts.</summary>
    public static QuantizedWeight Stack(IReadOnlyList<QuantizedWeight> experts)
    {
        try
        {
            var first = experts[0];
            return new QuantizedWeight(stack(experts.Select(e => e.Values).ToArray()), stack(experts.Select(e => e.Scales).ToArray()),
                first.BlockSize, first.RoundToBFloat16);
        }
        finally
        {
            foreach (var expert in experts) expert.Dispose();
        }
    }

    public void Dispose()
    {
        Values.Dispose();
        Scales.Dispose();
    }
}
