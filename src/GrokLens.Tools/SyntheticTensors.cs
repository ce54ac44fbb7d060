using System.Buffers.Binary;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Kernels;

namespace GrokLens.Tools;

/// <summary>
/// Random tensor data written straight to a stream in chunks of a few megabytes. The statistics keep a synthetic
/// model's activations finite and of order one: matrices have standard deviation 1/√in (uniform int8 has standard
/// deviation ≈ 74, so scales are ≈ 1/(74·√in)), norms are 1 ± 0.1, embedding and router N(0, 1/d).
/// </summary>
public static class SyntheticTensors
{
    private const int ChunkBytes = 4 << 20;

    /// <summary>Standard deviation of uniform int8 values in [−128, 127].</summary>
    public const float Int8Deviation = 73.9f;

    /// <summary>The scale that gives a matrix with <paramref name="inputs"/> inputs a standard deviation of 1/√inputs.</summary>
    public static float MatrixScale(long inputs) => 1f / (Int8Deviation * MathF.Sqrt(inputs));

    /// <summary>Q8_0 blocks of random int8; each block's fp16 scale is <see cref="MatrixScale"/> × 0.75…1.25.</summary>
    public static void WriteQ8_0(Stream stream, long elements, long inputs, SyntheticRandom random)
    {
        if (elements % GgmlTypes.Q8_0BlockElements != 0) throw new ArgumentException("Q8_0 needs whole blocks of 32.", nameof(elements));
        Span<ushort> scales = stackalloc ushort[256];
        for (int k = 0; k < 256; k++) scales[k] = BitConverter.HalfToUInt16Bits((Half)(MatrixScale(inputs) * (0.75f + 0.5f * k / 255)));
        var buffer = new byte[ChunkBytes / GgmlTypes.Q8_0BlockBytes * GgmlTypes.Q8_0BlockBytes];
        for (long left = elements / GgmlTypes.Q8_0BlockElements; left > 0;)
        {
            int blocks = (int)Math.Min(left, buffer.Length / GgmlTypes.Q8_0BlockBytes);
            var chunk = buffer.AsSpan(0, blocks * GgmlTypes.Q8_0BlockBytes);
            random.NextBytes(chunk);
            for (int b = 0; b < blocks; b++)
                BinaryPrimitives.WriteUInt16LittleEndian(chunk[(b * GgmlTypes.Q8_0BlockBytes)..], scales[chunk[b * GgmlTypes.Q8_0BlockBytes]]);
            stream.Write(chunk);
            left -= blocks;
        }
    }

    /// <summary>Uniform random int8 values.</summary>
    public static void WriteInt8(Stream stream, long count, SyntheticRandom random)
    {
        var buffer = new byte[ChunkBytes];
        for (long left = count; left > 0;)
        {
            int n = (int)Math.Min(left, buffer.Length);
            random.NextBytes(buffer.AsSpan(0, n));
            stream.Write(buffer, 0, n);
            left -= n;
        }
    }

    /// <summary>Little-endian float32 values mean + deviation·N(0, 1).</summary>
    public static void WriteFloat32(Stream stream, long count, float mean, float deviation, SyntheticRandom random) =>
        WriteValues(stream, count, sizeof(float), (Span<byte> span, ref SyntheticRandom r) => BinaryPrimitives.WriteSingleLittleEndian(span, mean + deviation * r.NextGaussian()), random);

    /// <summary>bfloat16 bit patterns (little-endian uint16) of <paramref name="scale"/> × 0.75…1.25: xAI's scales.</summary>
    public static void WriteBFloat16Scales(Stream stream, long count, float scale, SyntheticRandom random) =>
        WriteValues(stream, count, sizeof(ushort),
            (Span<byte> span, ref SyntheticRandom r) => BinaryPrimitives.WriteUInt16LittleEndian(span, BFloat16Rounding.ToBits(scale * (0.75f + 0.5f * r.NextFloat()))), random);

    private static void WriteValues(Stream stream, long count, int size, ValueWriter writeOne, SyntheticRandom random)
    {
        var buffer = new byte[ChunkBytes / size * size];
        for (long left = count; left > 0;)
        {
            int n = (int)Math.Min(left, buffer.Length / size);
            for (int i = 0; i < n; i++) writeOne(buffer.AsSpan(i * size, size), ref random);
            stream.Write(buffer, 0, n * size);
            left -= n;
        }
    }

    private delegate void ValueWriter(Span<byte> value, ref SyntheticRandom random);
}
