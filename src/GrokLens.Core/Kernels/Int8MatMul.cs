using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace GrokLens.Kernels;

/// <summary>
/// y = x·Wᵀ for float32 activations x [T, in] and an int8 weight W [out, in] that stays int8: each weight block is
/// turned into float32 in registers, never into a float32 copy of W, and activations are not quantised, so results
/// are within float32 rounding of dequantise-then-matmul (docs/int8-kernels.md gives the measured bound). Output rows
/// are split over <see cref="Int8KernelOptions.Threads"/> threads (torch's count by default); inputs are cut into
/// panels so a prefill's activations stay in the L2 cache while every row block reuses them.
/// </summary>
public static unsafe class Int8MatMul
{
    /// <summary>Activation bytes of one panel (tokens × panel inputs × 4): half of a 1 MB L2 cache.</summary>
    private const long PanelBytes = 512 * 1024;

    /// <summary>
    /// Weight bytes × tokens below which one thread does the whole product: one core does 1 MB of it in ≈ 30–60 µs, and
    /// handing half to a second thread costs microseconds when that core is idle but tens of microseconds when it is
    /// busy (bench --kernels's "1 thread" rows measure it on the bench model's matrices).
    /// </summary>
    public const long MinParallelWork = 1 << 20;

    /// <summary>y [..., out] = x [..., in] · Wᵀ, into a new float32 tensor.</summary>
    public static Tensor Multiply(in Int8Matrix w, Tensor x, Int8KernelOptions? options = null)
    {
        if (x.Dimensions < 1 || x.shape[^1] != w.Columns)
            throw new ArgumentException($"x has shape [{string.Join(", ", x.shape)}]; its last dimension must be the matrix's {w.Columns} inputs.", nameof(x));
        var y = empty(x.shape[..^1].Append(w.Rows).ToArray(), dtype: ScalarType.Float32);
        try
        {
            Multiply(w, x, y, options);
            return y;
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }

    /// <summary>Writes y [..., out] = x [..., in] · Wᵀ into <paramref name="y"/>'s memory (contiguous float32 CPU tensors).</summary>
    public static void Multiply(in Int8Matrix w, Tensor x, Tensor y, Int8KernelOptions? options = null)
    {
        if (x.Dimensions < 1 || x.shape[^1] != w.Columns)
            throw new ArgumentException($"x has shape [{string.Join(", ", x.shape)}]; its last dimension must be the matrix's {w.Columns} inputs.", nameof(x));
        long tokens = x.NumberOfElements / w.Columns;
        if (y.Dimensions < 1 || y.shape[^1] != w.Rows || y.NumberOfElements != tokens * w.Rows)
            throw new ArgumentException($"y has shape [{string.Join(", ", y.shape)}]; expected {tokens} rows of the matrix's {w.Rows} outputs.", nameof(y));
        Multiply(w, TensorMemory.Float32(x, nameof(x)), w.Columns, tokens, TensorMemory.Float32(y, nameof(y)), w.Rows, options);
        // The kernels hold raw pointers into x's and y's native memory: neither may be finalised before they finish.
        GC.KeepAlive(x);
        GC.KeepAlive(y);
    }

    /// <summary>
    /// y[t·yStride + o] = Σ_i x[t·xStride + i]·W[o, i] for t &lt; <paramref name="tokens"/>: rows of x and y may be
    /// strided (e.g. a slice of a larger buffer). Writes every y element of the <paramref name="tokens"/> rows.
    /// </summary>
    public static void Multiply(in Int8Matrix w, float* x, long xStride, long tokens, float* y, long yStride, Int8KernelOptions? options = null)
    {
        if (tokens <= 0) return;
        if (x == null || y == null) throw new ArgumentNullException(x == null ? nameof(x) : nameof(y));
        if (xStride < w.Columns || yStride < w.Rows) throw new ArgumentException("Row strides must cover a whole row of x and y.");
        var path = options?.Path ?? KernelPaths.Best;
        if (!KernelPaths.IsSupported(path)) throw new PlatformNotSupportedException($"This CPU cannot run the {path} kernels.");
        int threads = options?.Threads is > 0 and var requested ? requested : get_num_threads();

        var job = new Job(w, path, x, xStride, tokens, y, yStride, PanelChunks(w, path, tokens), w.Rows, options?.Rounding ?? BFloat16Method.Split);
        long work = w.ByteSize * tokens;
        int parts = (int)Math.Clamp(Math.Min(threads, work / MinParallelWork), 1, Math.Max(1, (w.Rows + 3) / 4));
        KernelThreadPool.Run(parts, &RunPart, Unsafe.AsPointer(ref job));
        GC.KeepAlive(w.Owner); // the mapping the weight's pointers point into
    }

    /// <summary>32-input chunks per panel: all inputs in one panel unless the tokens' activations would leave the L2 cache.</summary>
    private static long PanelChunks(in Int8Matrix w, KernelPath path, long tokens)
    {
        long chunks = (w.Columns + 31) / 32;
        if (path == KernelPath.Scalar || (w.Format == Int8Format.RowScaled && !RowScaledKernel.Vectorizable(w))) return chunks;
        long panel = Math.Max(1, PanelBytes / (tokens * 32 * sizeof(float)));
        return Math.Min(chunks, panel);
    }

    private readonly struct Job(Int8Matrix w, KernelPath path, float* x, long xStride, long tokens, float* y, long yStride, long panelChunks, long rows,
        BFloat16Method rounding)
    {
        public readonly Int8Matrix W = w;
        public readonly KernelPath Path = path;
        public readonly float* X = x;
        public readonly long XStride = xStride;
        public readonly long Tokens = tokens;
        public readonly float* Y = y;
        public readonly long YStride = yStride;
        public readonly long PanelChunks = panelChunks;
        public readonly long Rows = rows;
        public readonly BFloat16Method Rounding = rounding;
    }

    /// <summary>One thread's share: a contiguous range of rows (whole tiles of 4), all panels, all tokens.</summary>
    private static void RunPart(void* arguments, int part, int parts)
    {
        ref readonly var job = ref Unsafe.AsRef<Job>(arguments);
        long tiles = (job.Rows + 3) / 4;
        long r0 = Math.Min(job.Rows, tiles * part / parts * 4);
        long r1 = Math.Min(job.Rows, tiles * (part + 1) / parts * 4);
        if (r0 >= r1) return;
        long chunks = (job.W.Columns + 31) / 32;
        for (long c0 = 0; c0 < chunks; c0 += job.PanelChunks)
        {
            long c1 = Math.Min(chunks, c0 + job.PanelChunks);
            bool accumulate = c0 > 0;
            if (job.W.Format == Int8Format.Q8_0)
                Q8_0Kernel.Run(job.Path, job.W, r0, r1, c0, c1, job.X, job.XStride, job.Tokens, job.Y, job.YStride, accumulate);
            else if (job.W.RoundToBFloat16 && job.Rounding == BFloat16Method.Split && job.W.ScalesFitSplitting)
                RowScaledKernel.Run<SplitBFloat16Scale>(job.Path, job.W, r0, r1, c0, c1, job.X, job.XStride, job.Tokens, job.Y, job.YStride, accumulate);
            else if (job.W.RoundToBFloat16 && job.Rounding != BFloat16Method.Skipped)
                RowScaledKernel.Run<BFloat16Scale>(job.Path, job.W, r0, r1, c0, c1, job.X, job.XStride, job.Tokens, job.Y, job.YStride, accumulate);
            else
                RowScaledKernel.Run<PlainScale>(job.Path, job.W, r0, r1, c0, c1, job.X, job.XStride, job.Tokens, job.Y, job.YStride, accumulate);
        }
    }
}

/// <summary>Which kernel path and how many threads; defaults: the widest path this CPU has, torch's thread count.</summary>
public sealed record Int8KernelOptions
{
    public KernelPath? Path { get; init; }

    /// <summary>0: torch.get_num_threads().</summary>
    public int Threads { get; init; }

    /// <summary>How bf16(q·s) is formed; only bench --kernels measures the alternatives (docs/int8-kernels.md).</summary>
    internal BFloat16Method Rounding { get; init; }
}

/// <summary>
/// Ways to form xAI's bf16(q·s) in registers. <see cref="Split"/> (the default; a multiply and an FMA) is exact when
/// every |s| &lt; 2¹⁰⁰ and falls back to <see cref="Integer"/> (five integer operations, exact for every scale)
/// otherwise; <see cref="Skipped"/> computes q·s unrounded (not exact: the bench's measure of what rounding costs).
/// </summary>
internal enum BFloat16Method
{
    Split,
    Integer,
    Skipped,
}
