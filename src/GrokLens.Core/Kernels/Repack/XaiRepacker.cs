using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Xai;

namespace GrokLens.Kernels.Repack;

/// <summary>
/// Transposes one raw QuantizedWeight8bit (SPEC §4.3): int8 JAX [.., R = in, C = out] → [.., out, in] row-major, and
/// bfloat16 scales [.., S, out] → float32 [.., out, S]. Output rows are made in groups of 1,024 (one group per thread,
/// written in order), each from 16×16-byte blocks transposed in SSE registers: a group reads 1 KB runs of 16 source
/// rows at a time, so both sides stay within the TLB's reach. Memory holds one group per thread (≤ 32 MB each).
/// </summary>
internal static unsafe class XaiRepacker
{
    private const int GroupRows = 1024;

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
        int parallel = Math.Max(1, Environment.ProcessorCount);
        var buffers = Enumerable.Range(0, parallel).Select(_ => new byte[GroupRows * inputs]).ToArray();
        long groups = (outputs + GroupRows - 1) / GroupRows;
        for (long e = 0; e < layout.Experts; e++)
        {
            var expert = source + e * inputs * outputs;
            for (long first = 0; first < groups; first += parallel)
            {
                int count = (int)Math.Min(parallel, groups - first);
                Parallel.For(0, count, k =>
                {
                    long row = (first + k) * GroupRows;
                    fixed (byte* target = buffers[k]) Transpose(expert, inputs, outputs, row, (int)Math.Min(GroupRows, outputs - row), target);
                });
                for (int k = 0; k < count; k++)
                    Emit(buffers[k].AsSpan(0, (int)(Math.Min(GroupRows, outputs - (first + k) * GroupRows) * inputs)));
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

    /// <summary>Output rows [o0, o0 + rows) of one expert: target[o − o0, i] = source[i, o].</summary>
    internal static void Transpose(byte* source, long inputs, long outputs, long o0, int rows, byte* target)
    {
        bool blocks = Sse2.IsSupported && inputs % 16 == 0 && rows % 16 == 0;
        for (long i0 = 0; i0 < inputs; i0 += 16)
        {
            if (blocks)
            {
                for (int o = 0; o < rows; o += 16) Transpose16(source + i0 * outputs + o0 + o, outputs, target + o * inputs + i0, inputs);
                continue;
            }
            for (long i = i0; i < Math.Min(inputs, i0 + 16); i++)
            {
                var from = source + i * outputs + o0;
                for (int o = 0; o < rows; o++) target[o * inputs + i] = from[o];
            }
        }
    }

    /// <summary>
    /// Transposes a 16×16 block of bytes: four rounds of interleaving row k with row k+8 (a perfect shuffle of the row
    /// index bits) move element (r, c) to (c, r).
    /// </summary>
    private static void Transpose16(byte* source, long sourceStride, byte* target, long targetStride)
    {
        Vector128<byte> r0 = Sse2.LoadVector128(source), r1 = Sse2.LoadVector128(source + sourceStride),
            r2 = Sse2.LoadVector128(source + 2 * sourceStride), r3 = Sse2.LoadVector128(source + 3 * sourceStride),
            r4 = Sse2.LoadVector128(source + 4 * sourceStride), r5 = Sse2.LoadVector128(source + 5 * sourceStride),
            r6 = Sse2.LoadVector128(source + 6 * sourceStride), r7 = Sse2.LoadVector128(source + 7 * sourceStride),
            r8 = Sse2.LoadVector128(source + 8 * sourceStride), r9 = Sse2.LoadVector128(source + 9 * sourceStride),
            r10 = Sse2.LoadVector128(source + 10 * sourceStride), r11 = Sse2.LoadVector128(source + 11 * sourceStride),
            r12 = Sse2.LoadVector128(source + 12 * sourceStride), r13 = Sse2.LoadVector128(source + 13 * sourceStride),
            r14 = Sse2.LoadVector128(source + 14 * sourceStride), r15 = Sse2.LoadVector128(source + 15 * sourceStride);
        for (int round = 0; round < 4; round++)
        {
            (r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15) = (
                Sse2.UnpackLow(r0, r8), Sse2.UnpackHigh(r0, r8), Sse2.UnpackLow(r1, r9), Sse2.UnpackHigh(r1, r9),
                Sse2.UnpackLow(r2, r10), Sse2.UnpackHigh(r2, r10), Sse2.UnpackLow(r3, r11), Sse2.UnpackHigh(r3, r11),
                Sse2.UnpackLow(r4, r12), Sse2.UnpackHigh(r4, r12), Sse2.UnpackLow(r5, r13), Sse2.UnpackHigh(r5, r13),
                Sse2.UnpackLow(r6, r14), Sse2.UnpackHigh(r6, r14), Sse2.UnpackLow(r7, r15), Sse2.UnpackHigh(r7, r15));
        }
        Sse2.Store(target, r0);
        Sse2.Store(target + targetStride, r1);
        Sse2.Store(target + 2 * targetStride, r2);
        Sse2.Store(target + 3 * targetStride, r3);
        Sse2.Store(target + 4 * targetStride, r4);
        Sse2.Store(target + 5 * targetStride, r5);
        Sse2.Store(target + 6 * targetStride, r6);
        Sse2.Store(target + 7 * targetStride, r7);
        Sse2.Store(target + 8 * targetStride, r8);
        Sse2.Store(target + 9 * targetStride, r9);
        Sse2.Store(target + 10 * targetStride, r10);
        Sse2.Store(target + 11 * targetStride, r11);
        Sse2.Store(target + 12 * targetStride, r12);
        Sse2.Store(target + 13 * targetStride, r13);
        Sse2.Store(target + 14 * targetStride, r14);
        Sse2.Store(target + 15 * targetStride, r15);
    }
}
