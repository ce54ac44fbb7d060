using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GrokLens.Kernels;

/// <summary>
/// y[t, r] = Σ_b d[r, b] · Σ_i q[r, b, i] · x[t, 32b + i] over ggml Q8_0 blocks, read in place. Each tile of up to 4
/// rows × 4 tokens (2 on the 256-bit path, which has 16 registers) turns each block's 32 int8 values into float32 once
/// (sign-extend, convert, times the scale) and multiplies them into every token of the tile, so prefill reads each
/// weight once per tile instead of once per token. The dequantised weight d·q is exact in float32, so only the
/// summation order differs from dequantise-then-matmul.
/// </summary>
internal static unsafe class Q8_0Kernel
{
    private const int BlockBytes = 34;
    private const int BlockElements = 32;

    /// <summary>How far ahead in each row stream to prefetch: four rows are read at once, more than the hardware prefetcher tracks well.</summary>
    private const int PrefetchBytes = 1024;

    /// <summary>
    /// Rows [r0, r1) over blocks [b0, b1) for all <paramref name="tokens"/>; y[t, r] is set, or added to when
    /// <paramref name="accumulate"/> (a later panel of blocks).
    /// </summary>
    public static void Run(KernelPath path, in Int8Matrix w, long r0, long r1, long b0, long b1,
        float* x, long xStride, long tokens, float* y, long yStride, bool accumulate)
    {
        var rowBytes = w.RowBytes;
        // Read once here: a static field read inside a kernel can leave a class-initialisation check (a possible call) in
        // its code, and around a call the JIT keeps every vector in memory instead of registers.
        float* half = HalfTable.Pointer;
        for (long r = r0; r < r1;)
        {
            bool four = r + 4 <= r1;
            var rows = w.Values + r * rowBytes + b0 * BlockBytes;
            var output = y + r;
            switch (path)
            {
                case KernelPath.Vector512 when four: Tokens512<Four>(rows, rowBytes, b1 - b0, x + b0 * BlockElements, xStride, tokens, output, yStride, accumulate, half); break;
                case KernelPath.Vector512: Tokens512<One>(rows, rowBytes, b1 - b0, x + b0 * BlockElements, xStride, tokens, output, yStride, accumulate, half); break;
                case KernelPath.Vector256 when four: Tokens256<Four>(rows, rowBytes, b1 - b0, x + b0 * BlockElements, xStride, tokens, output, yStride, accumulate, half); break;
                case KernelPath.Vector256: Tokens256<One>(rows, rowBytes, b1 - b0, x + b0 * BlockElements, xStride, tokens, output, yStride, accumulate, half); break;
                default: Scalar(rows, rowBytes, four ? 4 : 1, b1 - b0, x + b0 * BlockElements, xStride, tokens, output, yStride, accumulate, half); break;
            }
            r += four ? 4 : 1;
        }
    }

    private static void Tokens512<TR>(byte* w, long rowBytes, long blocks, float* x, long xStride, long tokens, float* y, long yStride, bool accumulate, float* half)
        where TR : struct, ITileCount
    {
        if (tokens == 1 && typeof(TR) == typeof(Four))
        {
            DecodeTile512(w, rowBytes, blocks, x, y, accumulate, half);
            return;
        }
        long t = 0;
        for (; t + 4 <= tokens; t += 4) Tile512<TR, Four>(w, rowBytes, blocks, x + t * xStride, xStride, y + t * yStride, yStride, accumulate, half);
        switch (tokens - t)
        {
            case 1: Tile512<TR, One>(w, rowBytes, blocks, x + t * xStride, xStride, y + t * yStride, yStride, accumulate, half); break;
            case 2: Tile512<TR, Two>(w, rowBytes, blocks, x + t * xStride, xStride, y + t * yStride, yStride, accumulate, half); break;
            case 3: Tile512<TR, Three>(w, rowBytes, blocks, x + t * xStride, xStride, y + t * yStride, yStride, accumulate, half); break;
        }
    }

    private static void Tokens256<TR>(byte* w, long rowBytes, long blocks, float* x, long xStride, long tokens, float* y, long yStride, bool accumulate, float* half)
        where TR : struct, ITileCount
    {
        long t = 0;
        for (; t + 2 <= tokens; t += 2) Tile256<TR, Two>(w, rowBytes, blocks, x + t * xStride, xStride, y + t * yStride, yStride, accumulate, half);
        if (t < tokens) Tile256<TR, One>(w, rowBytes, blocks, x + t * xStride, xStride, y + t * yStride, yStride, accumulate, half);
    }

    /// <summary>The 32 weights of one block as two vectors of 16: float(q)·d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dequantize512(byte* block, float* half, out Vector512<float> low, out Vector512<float> high)
    {
        var d = Vector512.Create(half[*(ushort*)block]);
        low = Avx512F.Multiply(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)block + 2))), d);
        high = Avx512F.Multiply(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)block + 18))), d);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512<TR, TN>(byte* w, long rowBytes, long blocks, float* x, long xStride, float* y, long yStride, bool accumulate, float* half)
        where TR : struct, ITileCount where TN : struct, ITileCount
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        float* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        byte* p0 = w, p1 = w + rowBytes, p2 = w + 2 * rowBytes, p3 = w + 3 * rowBytes;
        for (long b = 0; b < blocks; b++)
        {
            long i = b * BlockElements;
            var xl0 = Vector512.Load(x0 + i);
            var xh0 = Vector512.Load(x0 + i + 16);
            Vector512<float> xl1 = default, xh1 = default, xl2 = default, xh2 = default, xl3 = default, xh3 = default;
            if (TN.Value > 1) { xl1 = Vector512.Load(x1 + i); xh1 = Vector512.Load(x1 + i + 16); }
            if (TN.Value > 2) { xl2 = Vector512.Load(x2 + i); xh2 = Vector512.Load(x2 + i + 16); }
            if (TN.Value > 3) { xl3 = Vector512.Load(x3 + i); xh3 = Vector512.Load(x3 + i + 16); }
            Sse.Prefetch0(p0 + PrefetchBytes);
            if (TR.Value > 1)
            {
                Sse.Prefetch0(p1 + PrefetchBytes);
                Sse.Prefetch0(p2 + PrefetchBytes);
                Sse.Prefetch0(p3 + PrefetchBytes);
            }

            Dequantize512(p0, half, out var wl, out var wh);
            { a00 = Avx512F.FusedMultiplyAdd(wl, xl0, a00); a00 = Avx512F.FusedMultiplyAdd(xh0, wh, a00); }
            if (TN.Value > 1) { a01 = Avx512F.FusedMultiplyAdd(wl, xl1, a01); a01 = Avx512F.FusedMultiplyAdd(xh1, wh, a01); }
            if (TN.Value > 2) { a02 = Avx512F.FusedMultiplyAdd(wl, xl2, a02); a02 = Avx512F.FusedMultiplyAdd(xh2, wh, a02); }
            if (TN.Value > 3) { a03 = Avx512F.FusedMultiplyAdd(wl, xl3, a03); a03 = Avx512F.FusedMultiplyAdd(xh3, wh, a03); }
            p0 += BlockBytes;
            if (TR.Value > 1)
            {
                Dequantize512(p1, half, out wl, out wh);
                { a10 = Avx512F.FusedMultiplyAdd(wl, xl0, a10); a10 = Avx512F.FusedMultiplyAdd(xh0, wh, a10); }
                if (TN.Value > 1) { a11 = Avx512F.FusedMultiplyAdd(wl, xl1, a11); a11 = Avx512F.FusedMultiplyAdd(xh1, wh, a11); }
                if (TN.Value > 2) { a12 = Avx512F.FusedMultiplyAdd(wl, xl2, a12); a12 = Avx512F.FusedMultiplyAdd(xh2, wh, a12); }
                if (TN.Value > 3) { a13 = Avx512F.FusedMultiplyAdd(wl, xl3, a13); a13 = Avx512F.FusedMultiplyAdd(xh3, wh, a13); }
                Dequantize512(p2, half, out wl, out wh);
                { a20 = Avx512F.FusedMultiplyAdd(wl, xl0, a20); a20 = Avx512F.FusedMultiplyAdd(xh0, wh, a20); }
                if (TN.Value > 1) { a21 = Avx512F.FusedMultiplyAdd(wl, xl1, a21); a21 = Avx512F.FusedMultiplyAdd(xh1, wh, a21); }
                if (TN.Value > 2) { a22 = Avx512F.FusedMultiplyAdd(wl, xl2, a22); a22 = Avx512F.FusedMultiplyAdd(xh2, wh, a22); }
                if (TN.Value > 3) { a23 = Avx512F.FusedMultiplyAdd(wl, xl3, a23); a23 = Avx512F.FusedMultiplyAdd(xh3, wh, a23); }
                Dequantize512(p3, half, out wl, out wh);
                { a30 = Avx512F.FusedMultiplyAdd(wl, xl0, a30); a30 = Avx512F.FusedMultiplyAdd(xh0, wh, a30); }
                if (TN.Value > 1) { a31 = Avx512F.FusedMultiplyAdd(wl, xl1, a31); a31 = Avx512F.FusedMultiplyAdd(xh1, wh, a31); }
                if (TN.Value > 2) { a32 = Avx512F.FusedMultiplyAdd(wl, xl2, a32); a32 = Avx512F.FusedMultiplyAdd(xh2, wh, a32); }
                if (TN.Value > 3) { a33 = Avx512F.FusedMultiplyAdd(wl, xl3, a33); a33 = Avx512F.FusedMultiplyAdd(xh3, wh, a33); }
                p1 += BlockBytes;
                p2 += BlockBytes;
                p3 += BlockBytes;
            }
        }
        TileOutput.Store<TR, TN>(y, yStride, accumulate,
            a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
    }

    /// <summary>
    /// A decode step's tile (4 rows, one token) with AVX-512: each block's 32 values are converted and multiplied into
    /// the token unscaled, and the block's sum is scaled once, d·(q·x), instead of scaling each value, d·q, first: one
    /// multiply fewer per 16 values in a loop bound by the instructions per byte (a decode step reads ≈ 1 GiB per layer
    /// of Grok-1). Within float32 rounding of the dequantised product, like every path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeTile512(byte* w, long rowBytes, long blocks, float* x, float* y, bool accumulate, float* half)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        byte* p0 = w, p1 = w + rowBytes, p2 = w + 2 * rowBytes, p3 = w + 3 * rowBytes;
        for (long b = 0; b < blocks; b++)
        {
            var xl = Vector512.Load(x + b * BlockElements);
            var xh = Vector512.Load(x + b * BlockElements + 16);
            Sse.Prefetch0(p0 + PrefetchBytes);
            Sse.Prefetch0(p1 + PrefetchBytes);
            Sse.Prefetch0(p2 + PrefetchBytes);
            Sse.Prefetch0(p3 + PrefetchBytes);
            a0 = Avx512F.FusedMultiplyAdd(BlockDot(p0, xl, xh), Vector512.Create(half[*(ushort*)p0]), a0);
            a1 = Avx512F.FusedMultiplyAdd(BlockDot(p1, xl, xh), Vector512.Create(half[*(ushort*)p1]), a1);
            a2 = Avx512F.FusedMultiplyAdd(BlockDot(p2, xl, xh), Vector512.Create(half[*(ushort*)p2]), a2);
            a3 = Avx512F.FusedMultiplyAdd(BlockDot(p3, xl, xh), Vector512.Create(half[*(ushort*)p3]), a3);
            p0 += BlockBytes;
            p1 += BlockBytes;
            p2 += BlockBytes;
            p3 += BlockBytes;
        }
        Vector512<float> zero = default;
        TileOutput.Store<Four, One>(y, 0, accumulate, a0, zero, zero, zero, a1, zero, zero, zero, a2, zero, zero, zero, a3, zero, zero, zero);
    }

    /// <summary>float(q)·x over one block's 32 values, unscaled, as 16 partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> BlockDot(byte* block, Vector512<float> xl, Vector512<float> xh) =>
        Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)block + 18))), xh,
            Avx512F.Multiply(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)block + 2))), xl));

    /// <summary>Eight weights of a block (from <paramref name="offset"/>) as float(q)·d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Dequantize256(byte* block, int offset, Vector256<float> d) =>
        Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.LoadScalarVector128((long*)(block + 2 + offset)).AsSByte())), d);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256<TR, TN>(byte* w, long rowBytes, long blocks, float* x, long xStride, float* y, long yStride, bool accumulate, float* half)
        where TR : struct, ITileCount where TN : struct, ITileCount
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        float* x0 = x, x1 = x + xStride;
        byte* p0 = w, p1 = w + rowBytes, p2 = w + 2 * rowBytes, p3 = w + 3 * rowBytes;
        for (long b = 0; b < blocks; b++)
        {
            var d0 = Vector256.Create(half[*(ushort*)p0]);
            Vector256<float> d1 = default, d2 = default, d3 = default;
            if (TR.Value > 1)
            {
                d1 = Vector256.Create(half[*(ushort*)p1]);
                d2 = Vector256.Create(half[*(ushort*)p2]);
                d3 = Vector256.Create(half[*(ushort*)p3]);
            }
            for (int offset = 0; offset < BlockElements; offset += 8)
            {
                long i = b * BlockElements + offset;
                var v0 = Vector256.Load(x0 + i);
                var v1 = TN.Value > 1 ? Vector256.Load(x1 + i) : default;
                var wv = Dequantize256(p0, offset, d0);
                a00 = Fma.MultiplyAdd(wv, v0, a00);
                if (TN.Value > 1) a01 = Fma.MultiplyAdd(wv, v1, a01);
                if (TR.Value > 1)
                {
                    wv = Dequantize256(p1, offset, d1);
                    a10 = Fma.MultiplyAdd(wv, v0, a10);
                    if (TN.Value > 1) a11 = Fma.MultiplyAdd(wv, v1, a11);
                    wv = Dequantize256(p2, offset, d2);
                    a20 = Fma.MultiplyAdd(wv, v0, a20);
                    if (TN.Value > 1) a21 = Fma.MultiplyAdd(wv, v1, a21);
                    wv = Dequantize256(p3, offset, d3);
                    a30 = Fma.MultiplyAdd(wv, v0, a30);
                    if (TN.Value > 1) a31 = Fma.MultiplyAdd(wv, v1, a31);
                }
            }
            p0 += BlockBytes;
            p1 += BlockBytes;
            p2 += BlockBytes;
            p3 += BlockBytes;
        }
        TileOutput.Store<TR, TN>(y, yStride, accumulate, a00, a01, a10, a11, a20, a21, a30, a31);
    }

    /// <summary>Plain loops: w = d·q in float32, one float32 sum per row and token.</summary>
    private static void Scalar(byte* w, long rowBytes, int rows, long blocks, float* x, long xStride, long tokens, float* y, long yStride, bool accumulate, float* half)
    {
        for (int r = 0; r < rows; r++)
        for (long t = 0; t < tokens; t++)
        {
            byte* block = w + r * rowBytes;
            float* xt = x + t * xStride;
            float sum = 0;
            for (long b = 0; b < blocks; b++, block += BlockBytes)
            {
                float d = half[*(ushort*)block];
                for (int i = 0; i < BlockElements; i++) sum += d * ((sbyte*)block)[2 + i] * xt[b * BlockElements + i];
            }
            TileOutput.Put(y + t * yStride + r, sum, accumulate);
        }
    }
}
