using System.Buffers.Binary;
using System.Security.Cryptography;
using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Xai;

namespace GrokLens.Kernels.Repack;

/// <summary>
/// Transposes one raw QuantizedWeight8bit (SPEC §4.3): int8 JAX [.., R = in, C = out] → [.., out, in] row-major, and
/// bfloat16 scales [.., S, out] → float32 [.., out, S]. Output rows are made 64 at a time from 64×64-byte tiles of the
/// mapped source, several chunks in parallel, and written in order, so memory holds a few megabytes whatever the size.
/// </summary>
internal static unsafe class XaiRepacker
{
    private const int RowsPerChunk = 64;
    private const int ChunksPerBatch = 16;

    /// <summary>The layout fields of the repack of <paramref name="tensor"/>, after checking its shapes.</summary>
    public static RepackHeader Layout(MappedFile file, XaiTensor tensor)
    {
        var w = tensor.Array.Shape;
        var s = tensor.Scales!.Shape;
        if (w.Length is not (2 or 3) || s.Length != w.Length || !w[..^2].SequenceEqual(s[..^2]) || s[^1] != w[^1] || s[^2] <= 0 || w[^2] % s[^2] != 0)
            throw new CheckpointFormatException(file.Path, null,
                $"scales [{string.Join(", ", s)}] do not fit weight [{string.Join(", ", w)}] (expected [E,] S, out with S dividing the inputs)");
        return new RepackHeader("", 0, 0, [], w.Length == 3, w.Length == 3 ? w[0] : 1, w[^1], w[^2], checked((int)s[^2]), true, [], []);
    }

    /// <summary>Writes values, padding and scales after the header's place; returns the SHA-256 of everything written.</summary>
    public static byte[] Write(MappedFile file, XaiTensor tensor, RepackHeader layout, Stream output)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Emit(ReadOnlySpan<byte> bytes)
        {
            output.Write(bytes);
            hash.AppendData(bytes);
        }

        long inputs = layout.Columns, outputs = layout.Rows;
        var source = file.Start + tensor.Array.Offset;
        var buffers = Enumerable.Range(0, ChunksPerBatch).Select(_ => new byte[RowsPerChunk * inputs]).ToArray();
        long chunks = (outputs + RowsPerChunk - 1) / RowsPerChunk;
        for (long e = 0; e < layout.Experts; e++)
        {
            var expert = source + e * inputs * outputs;
            for (long first = 0; first < chunks; first += ChunksPerBatch)
            {
                int count = (int)Math.Min(ChunksPerBatch, chunks - first);
                Parallel.For(0, count, k => TransposeChunk(expert, inputs, outputs, (first + k) * RowsPerChunk, buffers[k]));
                for (int k = 0; k < count; k++)
                {
                    long rows = Math.Min(RowsPerChunk, outputs - (first + k) * RowsPerChunk);
                    Emit(buffers[k].AsSpan(0, (int)(rows * inputs)));
                }
            }
        }
        Emit(new byte[layout.ScalesOffset - layout.ValuesOffset - layout.ValuesLength]);

        // bfloat16 [E, S, out] → float32 [E, out, S], exact (a bfloat16 is the top half of a float32).
        var scales = (ushort*)(file.Start + tensor.Scales!.Offset);
        int blocks = layout.ScaleBlocks;
        var row = new byte[blocks * sizeof(float)];
        for (long e = 0; e < layout.Experts; e++)
        for (long o = 0; o < outputs; o++)
        {
            for (int b = 0; b < blocks; b++)
                BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(b * sizeof(float)), BFloat16Rounding.FromBits(scales[(e * blocks + b) * outputs + o]));
            Emit(row);
        }
        return hash.GetHashAndReset();
    }

    /// <summary>Output rows [o0, o0 + 64) of one expert: target[o − o0, i] = source[i, o].</summary>
    private static void TransposeChunk(byte* source, long inputs, long outputs, long o0, byte[] target)
    {
        int rows = (int)Math.Min(RowsPerChunk, outputs - o0);
        fixed (byte* t = target)
        {
            for (long i0 = 0; i0 < inputs; i0 += 64)
            {
                long tile = Math.Min(64, inputs - i0);
                for (long i = i0; i < i0 + tile; i++)
                {
                    var from = source + i * outputs + o0;
                    var to = t + i;
                    for (int o = 0; o < rows; o++) to[o * inputs] = from[o];
                }
            }
        }
    }
}
