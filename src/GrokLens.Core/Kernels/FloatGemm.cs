using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Kernels;

/// <summary>
/// Y [m, n] = X [m, k]·Wᵀ for a row-major float32 matrix W [n, k]: torch's <c>linear</c> without bias, for the small
/// products of a prefill's experts (≈ 32 rows each on the bench model), where torch's GEMM ran at about a fifth of this
/// machine's FMA rate. Each output is a float32 dot product with 16-wide (AVX-512) or 8-wide (AVX2) FMA partial sums, or
/// a plain loop (<see cref="KernelPath"/>), so results are within float32 rounding of torch's. Blocks of 4 rows of X
/// × 4 rows of W (2 × 4 on AVX2, which has half the registers) share each load among four products. W is cut into
/// chunks of rows that helper threads take too (<see cref="SharedChunkRunner"/>): each chunk reads its rows of W once and
/// X, which is small, from cache.
/// </summary>
public static unsafe class FloatGemm
{
    /// <summary>Multiply-adds below which a product runs on the caller alone: sharing costs a few microseconds.</summary>
    private const long MinSharedWork = 1 << 20;

    /// <summary>Weight bytes per shared chunk.</summary>
    private const long ChunkBytes = 64 * 1024;

    /// <summary>
    /// x [..., k]·Wᵀ → [..., n] when W is a contiguous float32 CPU tensor [n, k], x a float32 CPU tensor and no gradient
    /// is recorded; null otherwise (the caller uses torch).
    /// </summary>
    public static Tensor? TryLinear(Tensor x, Tensor weight)
    {
        if (weight.dim() != 2 || x.dim() < 1 || x.shape[^1] != weight.shape[1] || x.NumberOfElements == 0 || weight.NumberOfElements == 0
            || is_grad_enabled() || weight.dtype != ScalarType.Float32 || x.dtype != ScalarType.Float32
            || weight.device_type != DeviceType.CPU || x.device_type != DeviceType.CPU || !weight.is_contiguous())
            return null;
        long k = weight.shape[1], n = weight.shape[0], m = x.NumberOfElements / k;
        using var rows = x.contiguous();
        var shape = x.shape.ToArray();
        shape[^1] = n;
        var y = empty(shape, dtype: ScalarType.Float32);
        Multiply(TensorMemory.Float32(rows, nameof(x)), m, TensorMemory.Float32(weight, nameof(weight)), n, k,
            TensorMemory.Float32(y, "y"), get_num_threads(), KernelPaths.Best);
        GC.KeepAlive(rows);
        return y;
    }

    /// <summary>Writes y[i, j] = Σ_c x[i, c]·w[j, c] for i &lt; m, j &lt; n, sharing rows of W with up to threads − 1 helpers.</summary>
    public static void Multiply(float* x, long m, float* w, long n, long k, float* y, int threads, KernelPath path)
    {
        long chunkRows = Math.Max(4, ChunkBytes / (k * sizeof(float)) & ~3L);
        if (threads <= 1 || m * n * k < MinSharedWork || n <= chunkRows)
        {
            Block(x, m, w, n, k, y, 0, n, path);
            return;
        }
        var job = new Job { X = x, M = m, W = w, N = n, K = k, Y = y, ChunkRows = chunkRows, Path = path };
        SharedChunkRunner.Run((int)((n + chunkRows - 1) / chunkRows), threads - 1, &RunChunk, Unsafe.AsPointer(ref job));
    }

    private struct Job
    {
        public float* X;
        public long M;
        public float* W;
        public long N;
        public long K;
        public float* Y;
        public long ChunkRows;
        public KernelPath Path;
    }

    private static void RunChunk(void* arguments, int chunk)
    {
        ref var job = ref Unsafe.AsRef<Job>(arguments);
        long from = chunk * job.ChunkRows;
        Block(job.X, job.M, job.W, job.N, job.K, job.Y, from, Math.Min(job.N, from + job.ChunkRows), job.Path);
    }

    /// <summary>Columns from … to−1 of Y (rows from … to−1 of W) for every row of X.</summary>
    internal static void Block(float* x, long m, float* w, long n, long k, float* y, long from, long to, KernelPath path)
    {
        long j = from;
        if (path == KernelPath.Vector512 && k >= 16)
        {
            long whole = k & ~15L;
            for (; j + 4 <= to; j += 4)
            {
                PrefetchRows(w, j + PrefetchAhead, n, k);
                long i = 0;
                for (; i + 4 <= m; i += 4) Tile4x4(x + i * k, w + j * k, k, whole, y + i * n + j, n);
                for (; i < m; i++) Tile1x4(x + i * k, w + j * k, k, whole, y + i * n + j);
                AddTails(x, m, w + j * k, k, whole, y + j, n);
            }
        }
        else if (path >= KernelPath.Vector256 && k >= 8)
        {
            long whole = k & ~7L;
            for (; j + 4 <= to; j += 4)
            {
                PrefetchRows(w, j + PrefetchAhead, n, k);
                long i = 0;
                for (; i + 2 <= m; i += 2) Tile2x4(x + i * k, w + j * k, k, whole, y + i * n + j, n);
                for (; i < m; i++) Tile1x4Avx2(x + i * k, w + j * k, k, whole, y + i * n + j);
                AddTails(x, m, w + j * k, k, whole, y + j, n);
            }
        }
        for (; j < to; j++)
            for (long i = 0; i < m; i++)
                y[i * n + j] = FloatGemv.Dot(x + i * k, w + j * k, k, path);
    }

    /// <summary>How many rows of W ahead of the tile the next rows are requested: weights too large for the caches stream from memory.</summary>
    private const long PrefetchAhead = 8;

    /// <summary>Asks for W's rows row … row+3 (if they exist) to be brought into the cache while the current tile computes.</summary>
    private static void PrefetchRows(float* w, long row, long rows, long k)
    {
        if (!Sse.IsSupported || row + 4 > rows) return;
        float* start = w + row * k, end = start + 4 * k;
        for (float* line = start; line < end; line += 16) Sse.Prefetch0(line);
    }

    /// <summary>
    /// 4 rows of X × 4 rows of W over the first <paramref name="whole"/> columns with AVX-512: 16 accumulators, 8 loads
    /// per 16 FMAs. Nothing else stays live across the loop: with more (a tail's pointers) the JIT spilled the
    /// accumulators to the stack on every iteration, at a quarter of the speed.
    /// </summary>
    private static void Tile4x4(float* x, float* w, long k, long whole, float* y, long n)
    {
        Vector512<float> a00 = Vector512<float>.Zero, a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00,
            a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        nint stride = (nint)k;
        float* end = x + whole;
        for (float* xp = x, wp = w; xp < end; xp += 16, wp += 16)
        {
            var v0 = Vector512.Load(wp);
            var v1 = Vector512.Load(wp + stride);
            var v2 = Vector512.Load(wp + 2 * stride);
            var v3 = Vector512.Load(wp + 3 * stride);
            var u = Vector512.Load(xp);
            a00 = Vector512.FusedMultiplyAdd(u, v0, a00); a01 = Vector512.FusedMultiplyAdd(u, v1, a01);
            a02 = Vector512.FusedMultiplyAdd(u, v2, a02); a03 = Vector512.FusedMultiplyAdd(u, v3, a03);
            u = Vector512.Load(xp + stride);
            a10 = Vector512.FusedMultiplyAdd(u, v0, a10); a11 = Vector512.FusedMultiplyAdd(u, v1, a11);
            a12 = Vector512.FusedMultiplyAdd(u, v2, a12); a13 = Vector512.FusedMultiplyAdd(u, v3, a13);
            u = Vector512.Load(xp + 2 * stride);
            a20 = Vector512.FusedMultiplyAdd(u, v0, a20); a21 = Vector512.FusedMultiplyAdd(u, v1, a21);
            a22 = Vector512.FusedMultiplyAdd(u, v2, a22); a23 = Vector512.FusedMultiplyAdd(u, v3, a23);
            u = Vector512.Load(xp + 3 * stride);
            a30 = Vector512.FusedMultiplyAdd(u, v0, a30); a31 = Vector512.FusedMultiplyAdd(u, v1, a31);
            a32 = Vector512.FusedMultiplyAdd(u, v2, a32); a33 = Vector512.FusedMultiplyAdd(u, v3, a33);
        }
        Sum4(a00, a01, a02, a03).Store(y);
        Sum4(a10, a11, a12, a13).Store(y + n);
        Sum4(a20, a21, a22, a23).Store(y + 2 * n);
        Sum4(a30, a31, a32, a33).Store(y + 3 * n);
    }

    /// <summary>2 rows of X × 4 rows of W over the first <paramref name="whole"/> columns with AVX2 (16 registers).</summary>
    private static void Tile2x4(float* x, float* w, long k, long whole, float* y, long n)
    {
        Vector256<float> a00 = Vector256<float>.Zero, a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        nint stride = (nint)k;
        float* end = x + whole;
        for (float* xp = x, wp = w; xp < end; xp += 8, wp += 8)
        {
            var v0 = Vector256.Load(wp);
            var v1 = Vector256.Load(wp + stride);
            var v2 = Vector256.Load(wp + 2 * stride);
            var v3 = Vector256.Load(wp + 3 * stride);
            var u = Vector256.Load(xp);
            a00 = Vector256.FusedMultiplyAdd(u, v0, a00); a01 = Vector256.FusedMultiplyAdd(u, v1, a01);
            a02 = Vector256.FusedMultiplyAdd(u, v2, a02); a03 = Vector256.FusedMultiplyAdd(u, v3, a03);
            u = Vector256.Load(xp + stride);
            a10 = Vector256.FusedMultiplyAdd(u, v0, a10); a11 = Vector256.FusedMultiplyAdd(u, v1, a11);
            a12 = Vector256.FusedMultiplyAdd(u, v2, a12); a13 = Vector256.FusedMultiplyAdd(u, v3, a13);
        }
        Sum4(a00, a01, a02, a03).Store(y);
        Sum4(a10, a11, a12, a13).Store(y + n);
    }

    /// <summary>
    /// One row of X × 4 rows of W with AVX-512 (a row left over after whole tiles), with the tile's arithmetic: each
    /// output is the same whichever rows share its tile, so a row's results do not depend on how rows are ordered.
    /// </summary>
    private static void Tile1x4(float* x, float* w, long k, long whole, float* y)
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        nint stride = (nint)k;
        float* end = x + whole;
        for (float* xp = x, wp = w; xp < end; xp += 16, wp += 16)
        {
            var u = Vector512.Load(xp);
            a0 = Vector512.FusedMultiplyAdd(u, Vector512.Load(wp), a0);
            a1 = Vector512.FusedMultiplyAdd(u, Vector512.Load(wp + stride), a1);
            a2 = Vector512.FusedMultiplyAdd(u, Vector512.Load(wp + 2 * stride), a2);
            a3 = Vector512.FusedMultiplyAdd(u, Vector512.Load(wp + 3 * stride), a3);
        }
        Sum4(a0, a1, a2, a3).Store(y);
    }

    /// <summary>One row of X × 4 rows of W with AVX2, with <see cref="Tile2x4"/>'s arithmetic.</summary>
    private static void Tile1x4Avx2(float* x, float* w, long k, long whole, float* y)
    {
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        nint stride = (nint)k;
        float* end = x + whole;
        for (float* xp = x, wp = w; xp < end; xp += 8, wp += 8)
        {
            var u = Vector256.Load(xp);
            a0 = Vector256.FusedMultiplyAdd(u, Vector256.Load(wp), a0);
            a1 = Vector256.FusedMultiplyAdd(u, Vector256.Load(wp + stride), a1);
            a2 = Vector256.FusedMultiplyAdd(u, Vector256.Load(wp + 2 * stride), a2);
            a3 = Vector256.FusedMultiplyAdd(u, Vector256.Load(wp + 3 * stride), a3);
        }
        Sum4(a0, a1, a2, a3).Store(y);
    }

    /// <summary>Adds the columns from <paramref name="whole"/> on, which the tiles' vectors did not cover, to rows 0…rows−1.</summary>
    private static void AddTails(float* x, long rows, float* w, long k, long whole, float* y, long n)
    {
        if (whole == k) return;
        for (long i = 0; i < rows; i++)
            for (int r = 0; r < 4; r++)
                y[i * n + r] += Tail(x + i * k, w + r * k, whole, k);
    }

    private static Vector128<float> Sum4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d) =>
        Sum4(a.GetLower() + a.GetUpper(), b.GetLower() + b.GetUpper(), c.GetLower() + c.GetUpper(), d.GetLower() + d.GetUpper());

    /// <summary>The totals of four vectors, in one register: pairwise horizontal adds, then the two 128-bit halves.</summary>
    private static Vector128<float> Sum4(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        var all = Avx.HorizontalAdd(Avx.HorizontalAdd(a, b), Avx.HorizontalAdd(c, d));
        return all.GetLower() + all.GetUpper();
    }

    private static float Tail(float* a, float* b, long from, long to)
    {
        float sum = 0;
        for (long i = from; i < to; i++) sum += a[i] * b[i];
        return sum;
    }
}
