using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Kernels;

/// <summary>
/// y = W·x for one float32 activation row x [in] and a row-major float32 matrix W [out, in] (a decode step's products).
/// torch's linear on a single row costs a dispatch and an allocation per call and, measured on the bench model's tied
/// 16384×256 unembedding, ran 1.5–2.5× slower than this loop. Each output is one dot product in float32 with 16-wide FMA
/// partial sums (8-wide on AVX2, plain loops elsewhere: <see cref="KernelPath"/>), so results are within float32 rounding
/// of torch's. Rows of products from
/// <see cref="MinSharedBytes"/> are shared with helper threads through <see cref="SharedChunkRunner"/>.
/// </summary>
public static unsafe class FloatGemv
{
    /// <summary>
    /// y [1, 1, out] = x [1, 1, in]·Wᵀ when W is a contiguous float32 CPU tensor [out, in], x one float32 CPU row and no
    /// gradient is recorded; null otherwise (the caller uses torch).
    /// </summary>
    public static Tensor? TryMultiplyRow(Tensor weight, Tensor x)
    {
        if (weight.dim() != 2 || x.NumberOfElements != weight.shape[1] || x.NumberOfElements == 0 || is_grad_enabled()
            || weight.dtype != ScalarType.Float32 || x.dtype != ScalarType.Float32
            || weight.device_type != DeviceType.CPU || x.device_type != DeviceType.CPU || !weight.is_contiguous())
            return null;
        using var row = x.contiguous();
        var y = empty([1, 1, weight.shape[0]], dtype: ScalarType.Float32);
        Multiply(TensorMemory.Float32(weight, nameof(weight)), weight.shape[0], weight.shape[1], TensorMemory.Float32(row, nameof(x)),
            TensorMemory.Float32(y, "y"), get_num_threads());
        GC.KeepAlive(row);
        return y;
    }

    /// <summary>Weight bytes from which a product is cut into chunks that helper threads may share.</summary>
    public const long MinSharedBytes = 256 * 1024;

    /// <summary>Weight bytes per shared chunk: small enough to balance two threads, large enough that claims cost nothing.</summary>
    private const long ChunkBytes = 64 * 1024;

    /// <summary>Writes y[o] = Σ_i W[o, i]·x[i] for o &lt; <paramref name="rows"/>, sharing rows with up to threads − 1 helpers.</summary>
    public static void Multiply(float* w, long rows, long columns, float* x, float* y, int threads) =>
        Multiply(w, rows, columns, x, y, threads, KernelPaths.Best);

    /// <summary><see cref="Multiply(float*, long, long, float*, float*, int)"/> on the given instruction set (tests run each).</summary>
    public static void Multiply(float* w, long rows, long columns, float* x, float* y, int threads, KernelPath path)
    {
        long bytes = rows * columns * sizeof(float);
        if (threads <= 1 || bytes < MinSharedBytes)
        {
            Rows(w, columns, x, y, 0, rows, path);
            return;
        }
        long chunkRows = Math.Max(4, ChunkBytes / (columns * sizeof(float)) & ~3L);
        var job = new Job { W = w, Rows = rows, Columns = columns, X = x, Y = y, ChunkRows = chunkRows, Path = path };
        SharedChunkRunner.Run((int)((rows + chunkRows - 1) / chunkRows), threads - 1, &RunChunk, Unsafe.AsPointer(ref job));
    }

    private struct Job
    {
        public float* W;
        public long Rows;
        public long Columns;
        public float* X;
        public float* Y;
        public long ChunkRows;
        public KernelPath Path;
    }

    private static void RunChunk(void* arguments, int chunk)
    {
        ref var job = ref Unsafe.AsRef<Job>(arguments);
        long from = chunk * job.ChunkRows;
        Rows(job.W, job.Columns, job.X, job.Y, from, Math.Min(job.Rows, from + job.ChunkRows), job.Path);
    }

    /// <summary>
    /// Rows from … to−1 of y = W·x: with AVX-512 four rows at a time so each load of x serves four rows, else one dot
    /// product per row (8-wide on AVX2).
    /// </summary>
    private static void Rows(float* w, long columns, float* x, float* y, long from, long to, KernelPath path)
    {
        long o = from;
        if (path == KernelPath.Vector512 && columns >= 16)
        {
            long whole = columns & ~15L;
            for (; o + 4 <= to; o += 4)
            {
                float* r0 = w + o * columns, r1 = r0 + columns, r2 = r1 + columns, r3 = r2 + columns;
                Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                for (long i = 0; i < whole; i += 16)
                {
                    var xv = Vector512.Load(x + i);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + i), xv, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + i), xv, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + i), xv, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + i), xv, a3);
                }
                y[o] = Vector512.Sum(a0) + Tail(r0, x, whole, columns);
                y[o + 1] = Vector512.Sum(a1) + Tail(r1, x, whole, columns);
                y[o + 2] = Vector512.Sum(a2) + Tail(r2, x, whole, columns);
                y[o + 3] = Vector512.Sum(a3) + Tail(r3, x, whole, columns);
            }
        }
        for (; o < to; o++) y[o] = Dot(w + o * columns, x, columns, path);
    }

    /// <summary>Σ a[i]·b[i] over <paramref name="length"/> floats, on the widest path this CPU has.</summary>
    public static float Dot(float* a, float* b, long length) => Dot(a, b, length, KernelPaths.Best);

    /// <summary>Σ a[i]·b[i] over <paramref name="length"/> floats: 16 or 8 at a time, or one at a time on the scalar path.</summary>
    public static float Dot(float* a, float* b, long length, KernelPath path)
    {
        long i = 0;
        float sum = 0;
        if (path == KernelPath.Vector512 && length >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= length; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            sum = Vector512.Sum(acc);
        }
        else if (path >= KernelPath.Vector256 && length >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= length; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            sum = Vector256.Sum(acc);
        }
        return sum + Tail(a, b, i, length);
    }

    private static float Tail(float* a, float* b, long from, long to)
    {
        float sum = 0;
        for (long i = from; i < to; i++) sum += a[i] * b[i];
        return sum;
    }
}
