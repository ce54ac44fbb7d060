using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GrokLens.Kernels;

/// <summary>
/// y[t, r] = Σ_i W[r, i]·x[t, i] for row-major int8 values with a few float32 scales per row (xAI's layout after the
/// repack), W = rule(float(q), s). Same tiling as <see cref="Q8_0Kernel"/>: up to 4 rows × 4 tokens (2 on the 256-bit
/// path) per tile, each 32-input chunk of int8 turned into float32 once per tile. The vector paths need scale blocks
/// of a multiple of 32 inputs (all of Grok-1's are); other matrices take the scalar path.
/// </summary>
internal static unsafe class RowScaledKernel
{
    public const int ChunkElements = 32;

    /// <summary>How far ahead in each row stream to prefetch (as in <see cref="Q8_0Kernel"/>).</summary>
    private const int PrefetchBytes = 1024;

    /// <summary>True when the vector paths can run this matrix (scale blocks of whole 32-input chunks).</summary>
    public static bool Vectorizable(in Int8Matrix w) => w.BlockLength % ChunkElements == 0;

    /// <summary>
    /// Rows [r0, r1) over the 32-input chunks [c0, c1) (the scalar path: over inputs [32·c0, min(32·c1, columns))) for
    /// all tokens; y is set, or added to when <paramref name="accumulate"/>.
    /// </summary>
    public static void Run<TRule>(KernelPath path, in Int8Matrix w, long r0, long r1, long c0, long c1,
        float* x, long xStride, long tokens, float* y, long yStride, bool accumulate)
        where TRule : struct, IScaleRule
    {
        if (path != KernelPath.Scalar && !Vectorizable(w)) path = KernelPath.Scalar;
        long chunksPerBlock = w.BlockLength / ChunkElements;
        for (long r = r0; r < r1;)
        {
            bool four = r + 4 <= r1;
            var values = (sbyte*)w.Values + r * w.Columns;
            var scales = w.Scales + r * w.ScaleBlocks;
            var output = y + r;
            var rows = new Rows(values, scales, w.Columns, w.ScaleBlocks, chunksPerBlock);
            switch (path)
            {
                case KernelPath.Vector512 when four: Tokens512<TRule, Four>(rows, c0, c1, x, xStride, tokens, output, yStride, accumulate); break;
                case KernelPath.Vector512: Tokens512<TRule, One>(rows, c0, c1, x, xStride, tokens, output, yStride, accumulate); break;
                case KernelPath.Vector256 when four: Tokens256<TRule, Four>(rows, c0, c1, x, xStride, tokens, output, yStride, accumulate); break;
                case KernelPath.Vector256: Tokens256<TRule, One>(rows, c0, c1, x, xStride, tokens, output, yStride, accumulate); break;
                default:
                    Scalar<TRule>(w, four ? 4 : 1, values, scales, c0 * ChunkElements, Math.Min(c1 * ChunkElements, w.Columns),
                        x, xStride, tokens, output, yStride, accumulate);
                    break;
            }
            r += four ? 4 : 1;
        }
    }

    /// <summary>Where a tile's rows start: values [rows, columns] and scales [rows, blocks].</summary>
    private readonly struct Rows(sbyte* values, float* scales, long columns, int scaleBlocks, long chunksPerBlock)
    {
        public readonly sbyte* Values = values;
        public readonly float* Scales = scales;
        public readonly long Columns = columns;
        public readonly int ScaleBlocks = scaleBlocks;
        public readonly long ChunksPerBlock = chunksPerBlock;
    }

    private static void Tokens512<TRule, TR>(Rows rows, long c0, long c1, float* x, long xStride, long tokens, float* y, long yStride, bool accumulate)
        where TRule : struct, IScaleRule where TR : struct, ITileCount
    {
        long t = 0;
        for (; t + 4 <= tokens; t += 4) Tile512<TRule, TR, Four>(rows, c0, c1, x + t * xStride, xStride, y + t * yStride, yStride, accumulate);
        switch (tokens - t)
        {
            case 1: Tile512<TRule, TR, One>(rows, c0, c1, x + t * xStride, xStride, y + t * yStride, yStride, accumulate); break;
            case 2: Tile512<TRule, TR, Two>(rows, c0, c1, x + t * xStride, xStride, y + t * yStride, yStride, accumulate); break;
            case 3: Tile512<TRule, TR, Three>(rows, c0, c1, x + t * xStride, xStride, y + t * yStride, yStride, accumulate); break;
        }
    }

    private static void Tokens256<TRule, TR>(Rows rows, long c0, long c1, float* x, long xStride, long tokens, float* y, long yStride, bool accumulate)
        where TRule : struct, IScaleRule where TR : struct, ITileCount
    {
        long t = 0;
        for (; t + 2 <= tokens; t += 2) Tile256<TRule, TR, Two>(rows, c0, c1, x + t * xStride, xStride, y + t * yStride, yStride, accumulate);
        if (t < tokens) Tile256<TRule, TR, One>(rows, c0, c1, x + t * xStride, xStride, y + t * yStride, yStride, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dequantize512<TRule>(sbyte* values, Vector512<float> a, Vector512<float> b, out Vector512<float> low, out Vector512<float> high)
        where TRule : struct, IScaleRule
    {
        low = TRule.Apply(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(values))), a, b);
        high = TRule.Apply(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(values + 16))), a, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512<TRule, TR, TN>(Rows rows, long c0, long c1, float* x, long xStride, float* y, long yStride, bool accumulate)
        where TRule : struct, IScaleRule where TR : struct, ITileCount where TN : struct, ITileCount
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        float* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        long columns = rows.Columns;
        sbyte* v0 = rows.Values, v1 = v0 + columns, v2 = v0 + 2 * columns, v3 = v0 + 3 * columns;
        float* s0 = rows.Scales, s1 = s0 + rows.ScaleBlocks, s2 = s0 + 2 * rows.ScaleBlocks, s3 = s0 + 3 * rows.ScaleBlocks;
        for (long c = c0; c < c1;)
        {
            long block = c / rows.ChunksPerBlock;
            long end = Math.Min(c1, (block + 1) * rows.ChunksPerBlock);
            var (a0, b0) = (Vector512.Create(TRule.A(s0[block])), Vector512.Create(TRule.B(s0[block])));
            Vector512<float> a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
            if (TR.Value > 1)
            {
                (a1, b1) = (Vector512.Create(TRule.A(s1[block])), Vector512.Create(TRule.B(s1[block])));
                (a2, b2) = (Vector512.Create(TRule.A(s2[block])), Vector512.Create(TRule.B(s2[block])));
                (a3, b3) = (Vector512.Create(TRule.A(s3[block])), Vector512.Create(TRule.B(s3[block])));
            }
            for (; c < end; c++)
            {
                long i = c * ChunkElements;
                var xl0 = Vector512.Load(x0 + i);
                var xh0 = Vector512.Load(x0 + i + 16);
                Vector512<float> xl1 = default, xh1 = default, xl2 = default, xh2 = default, xl3 = default, xh3 = default;
                if (TN.Value > 1) { xl1 = Vector512.Load(x1 + i); xh1 = Vector512.Load(x1 + i + 16); }
                if (TN.Value > 2) { xl2 = Vector512.Load(x2 + i); xh2 = Vector512.Load(x2 + i + 16); }
                if (TN.Value > 3) { xl3 = Vector512.Load(x3 + i); xh3 = Vector512.Load(x3 + i + 16); }
                Sse.Prefetch0(v0 + i + PrefetchBytes);
                if (TR.Value > 1)
                {
                    Sse.Prefetch0(v1 + i + PrefetchBytes);
                    Sse.Prefetch0(v2 + i + PrefetchBytes);
                    Sse.Prefetch0(v3 + i + PrefetchBytes);
                }

                Dequantize512<TRule>(v0 + i, a0, b0, out var wl, out var wh);
                { a00 = Avx512F.FusedMultiplyAdd(wl, xl0, a00); a00 = Avx512F.FusedMultiplyAdd(xh0, wh, a00); }
                if (TN.Value > 1) { a01 = Avx512F.FusedMultiplyAdd(wl, xl1, a01); a01 = Avx512F.FusedMultiplyAdd(xh1, wh, a01); }
                if (TN.Value > 2) { a02 = Avx512F.FusedMultiplyAdd(wl, xl2, a02); a02 = Avx512F.FusedMultiplyAdd(xh2, wh, a02); }
                if (TN.Value > 3) { a03 = Avx512F.FusedMultiplyAdd(wl, xl3, a03); a03 = Avx512F.FusedMultiplyAdd(xh3, wh, a03); }
                if (TR.Value > 1)
                {
                    Dequantize512<TRule>(v1 + i, a1, b1, out wl, out wh);
                    { a10 = Avx512F.FusedMultiplyAdd(wl, xl0, a10); a10 = Avx512F.FusedMultiplyAdd(xh0, wh, a10); }
                    if (TN.Value > 1) { a11 = Avx512F.FusedMultiplyAdd(wl, xl1, a11); a11 = Avx512F.FusedMultiplyAdd(xh1, wh, a11); }
                    if (TN.Value > 2) { a12 = Avx512F.FusedMultiplyAdd(wl, xl2, a12); a12 = Avx512F.FusedMultiplyAdd(xh2, wh, a12); }
                    if (TN.Value > 3) { a13 = Avx512F.FusedMultiplyAdd(wl, xl3, a13); a13 = Avx512F.FusedMultiplyAdd(xh3, wh, a13); }
                    Dequantize512<TRule>(v2 + i, a2, b2, out wl, out wh);
                    { a20 = Avx512F.FusedMultiplyAdd(wl, xl0, a20); a20 = Avx512F.FusedMultiplyAdd(xh0, wh, a20); }
                    if (TN.Value > 1) { a21 = Avx512F.FusedMultiplyAdd(wl, xl1, a21); a21 = Avx512F.FusedMultiplyAdd(xh1, wh, a21); }
                    if (TN.Value > 2) { a22 = Avx512F.FusedMultiplyAdd(wl, xl2, a22); a22 = Avx512F.FusedMultiplyAdd(xh2, wh, a22); }
                    if (TN.Value > 3) { a23 = Avx512F.FusedMultiplyAdd(wl, xl3, a23); a23 = Avx512F.FusedMultiplyAdd(xh3, wh, a23); }
                    Dequantize512<TRule>(v3 + i, a3, b3, out wl, out wh);
                    { a30 = Avx512F.FusedMultiplyAdd(wl, xl0, a30); a30 = Avx512F.FusedMultiplyAdd(xh0, wh, a30); }
                    if (TN.Value > 1) { a31 = Avx512F.FusedMultiplyAdd(wl, xl1, a31); a31 = Avx512F.FusedMultiplyAdd(xh1, wh, a31); }
                    if (TN.Value > 2) { a32 = Avx512F.FusedMultiplyAdd(wl, xl2, a32); a32 = Avx512F.FusedMultiplyAdd(xh2, wh, a32); }
                    if (TN.Value > 3) { a33 = Avx512F.FusedMultiplyAdd(wl, xl3, a33); a33 = Avx512F.FusedMultiplyAdd(xh3, wh, a33); }
                }
            }
        }
        TileOutput.Store<TR, TN>(y, yStride, accumulate,
            a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Dequantize256<TRule>(sbyte* values, Vector256<float> a, Vector256<float> b) where TRule : struct, IScaleRule =>
        TRule.Apply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.LoadScalarVector128((long*)values).AsSByte())), a, b);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256<TRule, TR, TN>(Rows rows, long c0, long c1, float* x, long xStride, float* y, long yStride, bool accumulate)
        where TRule : struct, IScaleRule where TR : struct, ITileCount where TN : struct, ITileCount
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        float* x0 = x, x1 = x + xStride;
        long columns = rows.Columns;
        sbyte* v0 = rows.Values, v1 = v0 + columns, v2 = v0 + 2 * columns, v3 = v0 + 3 * columns;
        float* s0 = rows.Scales, s1 = s0 + rows.ScaleBlocks, s2 = s0 + 2 * rows.ScaleBlocks, s3 = s0 + 3 * rows.ScaleBlocks;
        for (long c = c0; c < c1;)
        {
            long block = c / rows.ChunksPerBlock;
            long end = Math.Min(c1, (block + 1) * rows.ChunksPerBlock) * ChunkElements;
            var (a0, b0) = (Vector256.Create(TRule.A(s0[block])), Vector256.Create(TRule.B(s0[block])));
            Vector256<float> a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
            if (TR.Value > 1)
            {
                (a1, b1) = (Vector256.Create(TRule.A(s1[block])), Vector256.Create(TRule.B(s1[block])));
                (a2, b2) = (Vector256.Create(TRule.A(s2[block])), Vector256.Create(TRule.B(s2[block])));
                (a3, b3) = (Vector256.Create(TRule.A(s3[block])), Vector256.Create(TRule.B(s3[block])));
            }
            for (long i = c * ChunkElements; i < end; i += 8)
            {
                var x0v = Vector256.Load(x0 + i);
                var x1v = TN.Value > 1 ? Vector256.Load(x1 + i) : default;
                var wv = Dequantize256<TRule>(v0 + i, a0, b0);
                a00 = Fma.MultiplyAdd(wv, x0v, a00);
                if (TN.Value > 1) a01 = Fma.MultiplyAdd(wv, x1v, a01);
                if (TR.Value > 1)
                {
                    wv = Dequantize256<TRule>(v1 + i, a1, b1);
                    a10 = Fma.MultiplyAdd(wv, x0v, a10);
                    if (TN.Value > 1) a11 = Fma.MultiplyAdd(wv, x1v, a11);
                    wv = Dequantize256<TRule>(v2 + i, a2, b2);
                    a20 = Fma.MultiplyAdd(wv, x0v, a20);
                    if (TN.Value > 1) a21 = Fma.MultiplyAdd(wv, x1v, a21);
                    wv = Dequantize256<TRule>(v3 + i, a3, b3);
                    a30 = Fma.MultiplyAdd(wv, x0v, a30);
                    if (TN.Value > 1) a31 = Fma.MultiplyAdd(wv, x1v, a31);
                }
            }
            c = end / ChunkElements;
        }
        TileOutput.Store<TR, TN>(y, yStride, accumulate, a00, a01, a10, a11, a20, a21, a30, a31);
    }

    /// <summary>Plain loops over inputs [i0, i1), for any block length.</summary>
    private static void Scalar<TRule>(in Int8Matrix w, int rows, sbyte* values, float* scales, long i0, long i1,
        float* x, long xStride, long tokens, float* y, long yStride, bool accumulate)
        where TRule : struct, IScaleRule
    {
        long blockLength = w.BlockLength;
        for (int r = 0; r < rows; r++)
        for (long t = 0; t < tokens; t++)
        {
            sbyte* row = values + r * w.Columns;
            float* rowScales = scales + r * w.ScaleBlocks;
            float* xt = x + t * xStride;
            float sum = 0;
            for (long i = i0; i < i1; i++)
            {
                float scale = rowScales[i / blockLength];
                sum += TRule.Apply(row[i], TRule.A(scale), TRule.B(scale)) * xt[i];
            }
            TileOutput.Put(y + t * yStride + r, sum, accumulate);
        }
    }
}
