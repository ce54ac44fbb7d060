using static TorchSharp.torch;

namespace GrokLens.Checkpoints.Gguf;

/// <summary>
/// ggml's Q8_0: blocks of 32 values along the innermost dimension, each stored as an fp16 scale d followed by 32 int8
/// q; the value is d·q computed in float32 (ggml's dequantize_row_q8_0).
/// </summary>
public static unsafe class Q8_0
{
    private const long BlocksPerTask = 1 << 16;

    /// <summary>Splits the blocks at <paramref name="source"/> into int8 values [shape] and float32 scales (fp16 widened exactly).</summary>
    internal static QuantizedWeight Read(byte* source, long[] shape)
    {
        long elements = shape.Aggregate(1L, (a, b) => a * b);
        long blocks = elements / GgmlTypes.Q8_0BlockElements;
        var values = empty(shape, dtype: ScalarType.Int8);
        var scales = empty(shape[..^1].Append(shape[^1] / GgmlTypes.Q8_0BlockElements).ToArray(), dtype: ScalarType.Float32);
        var q = (sbyte*)TensorBytes.Pointer(values);
        var d = (float*)TensorBytes.Pointer(scales);
        Parallel.For(0, (blocks + BlocksPerTask - 1) / BlocksPerTask, task =>
        {
            for (long block = task * BlocksPerTask; block < Math.Min(blocks, (task + 1) * BlocksPerTask); block++)
            {
                var bytes = source + block * GgmlTypes.Q8_0BlockBytes;
                d[block] = (float)BitConverter.UInt16BitsToHalf((ushort)(bytes[0] | bytes[1] << 8));
                new ReadOnlySpan<sbyte>(bytes + 2, GgmlTypes.Q8_0BlockElements)
                    .CopyTo(new Span<sbyte>(q + block * GgmlTypes.Q8_0BlockElements, GgmlTypes.Q8_0BlockElements));
            }
        });
        return new QuantizedWeight(values, scales, GgmlTypes.Q8_0BlockElements, roundToBFloat16: false);
    }

    /// <summary>
    /// ggml's quantize_row_q8_0_ref: d = max|x|/127 per block, q = round(x/d) (0 when d is 0), d stored as fp16.
    /// Writes <c>values.Length/32·34</c> bytes.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> values, Span<byte> output)
    {
        if (values.Length % GgmlTypes.Q8_0BlockElements != 0)
            throw new ArgumentException($"Q8_0 needs a multiple of {GgmlTypes.Q8_0BlockElements} values, got {values.Length}.");
        for (int block = 0; block < values.Length / GgmlTypes.Q8_0BlockElements; block++)
        {
            var x = values.Slice(block * GgmlTypes.Q8_0BlockElements, GgmlTypes.Q8_0BlockElements);
            var o = output.Slice(block * GgmlTypes.Q8_0BlockBytes, GgmlTypes.Q8_0BlockBytes);
            float amax = 0;
            foreach (var v in x) amax = Math.Max(amax, Math.Abs(v));
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            var half = BitConverter.HalfToUInt16Bits((Half)d);
            o[0] = (byte)half;
            o[1] = (byte)(half >> 8);
            for (int i = 0; i < x.Length; i++) o[2 + i] = (byte)(sbyte)MathF.Round(x[i] * id, MidpointRounding.AwayFromZero);
        }
    }
}
