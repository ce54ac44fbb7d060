using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Kernels;

/// <summary>
/// The routed experts of several tokens on float32 CPU weights, when nothing inside the experts is hooked: out[t] =
/// Σ_s w[t, s]·W_down,e·(gelu(W_gate,e·x[t]) ⊙ W_up,e·x[t]) with e = index[t, s], the sum <see cref="GrokMoE"/>'s general
/// path computes. That path makes ≈ 60 torch calls a layer (24 small matrix products, each a fork and join of torch's
/// threads, and the gathers and scatters around them), which on the bench model took longer than the arithmetic. Here
/// each expert's rows are gathered once, then two stages run as blocks of weight rows that the caller and helper
/// threads take in turn (<see cref="SharedChunkRunner"/>): gate and up products with gelu ⊙ up (<see cref="VectorGelu"/>),
/// then the down products; the gated sum follows in slot order. Results are within float32 rounding of the general path
/// (<see cref="FloatGemm"/> sums in another order than torch's GEMM).
/// </summary>
internal static unsafe class ExpertPrefill
{
    /// <summary>Weight bytes per block: a few blocks of the bench model's 512 KB matrices for each thread.</summary>
    private const long BlockBytes = 128 * 1024;

    /// <param name="x">Rows [N, D], float32 on the CPU.</param>
    /// <param name="indices">Each row's experts, N × S in row order, every index in 0…E−1.</param>
    /// <param name="gateWeights">Each row's gates [N, S], float32 on the CPU.</param>
    /// <returns>The gated sum of the chosen experts' outputs [N, D].</returns>
    public static Tensor Run(Tensor x, long[] indices, Tensor gateWeights, FloatExperts gate, FloatExperts up, FloatExperts down,
        int threads, KernelPath path)
    {
        long tokens = x.shape[0], hidden = x.shape[1], expertSize = gate.Rows, pairs = indices.LongLength;
        int slots = (int)(pairs / tokens), experts = gate.Count;

        // Pairs (token, slot) sorted by expert, in pair order within an expert: pair p's row is sortedRow[p].
        var starts = new long[experts + 1];
        foreach (var e in indices) starts[e + 1]++;
        for (int e = 0; e < experts; e++) starts[e + 1] += starts[e];
        var sortedRow = new long[pairs];
        var next = (long[])starts.Clone();
        for (long p = 0; p < pairs; p++) sortedRow[p] = next[indices[p]]++;

        using var rows = x.contiguous();
        using var gates = gateWeights.contiguous();
        using var sorted = empty([pairs, hidden], dtype: ScalarType.Float32);
        using var activation = empty([pairs, expertSize], dtype: ScalarType.Float32);
        using var upOut = empty([pairs, expertSize], dtype: ScalarType.Float32);
        using var expertOut = empty([pairs, hidden], dtype: ScalarType.Float32);
        var output = empty([tokens, hidden], dtype: ScalarType.Float32);
        float* input = TensorMemory.Float32(rows, nameof(x)), sortedRows = TensorMemory.Float32(sorted, "sorted rows");
        long rowBytes = hidden * sizeof(float);
        for (long p = 0; p < pairs; p++) Buffer.MemoryCopy(input + p / slots * hidden, sortedRows + sortedRow[p] * hidden, rowBytes, rowBytes);

        fixed (long* startsPointer = starts)
        {
            var job = new Job
            {
                Starts = startsPointer, Path = path, Input = sortedRows, InputWidth = hidden, Weights = gate.Memory(),
                UpWeights = up.Memory(), WeightRows = expertSize, Output = TensorMemory.Float32(activation, "activation"),
                UpOutput = TensorMemory.Float32(upOut, "up"),
            };
            RunBlocks(ref job, experts, threads);
            job = new Job
            {
                Starts = startsPointer, Path = path, Input = job.Output, InputWidth = expertSize, Weights = down.Memory(),
                WeightRows = hidden, Output = TensorMemory.Float32(expertOut, "expert output"),
            };
            RunBlocks(ref job, experts, threads);
        }

        float* result = TensorMemory.Float32(output, "output"), gateValues = TensorMemory.Float32(gates, nameof(gateWeights));
        float* outs = TensorMemory.Float32(expertOut, "expert output");
        for (long t = 0; t < tokens; t++)
            for (int s = 0; s < slots; s++)
                AddGated(result + t * hidden, outs + sortedRow[t * slots + s] * hidden, gateValues[t * slots + s], hidden, first: s == 0, path);
        GC.KeepAlive(rows);
        GC.KeepAlive(gates);
        GC.KeepAlive(sorted);
        GC.KeepAlive(activation);
        GC.KeepAlive(upOut);
        GC.KeepAlive(expertOut);
        GC.KeepAlive(gate);
        GC.KeepAlive(up);
        GC.KeepAlive(down);
        return output;
    }

    /// <summary>
    /// target ← source·g for the first slot, else target + source·g: the general path's product by the gate, then its
    /// sum over slots in slot order (no fused multiply-add, so each step rounds as torch's do).
    /// </summary>
    private static void AddGated(float* target, float* source, float g, long length, bool first, KernelPath path)
    {
        long i = 0;
        if (path >= KernelPath.Vector256)
        {
            var factor = Vector256.Create(g);
            for (; i + 8 <= length; i += 8)
            {
                var product = Vector256.Load(source + i) * factor;
                (first ? product : Vector256.Load(target + i) + product).Store(target + i);
            }
        }
        for (; i < length; i++) target[i] = first ? source[i] * g : target[i] + source[i] * g;
    }

    /// <summary>
    /// One stage: for each expert, its rows of Input times its weight matrix (and its up matrix, followed by
    /// gelu(first) ⊙ up, when UpWeights is set), written to the same rows of Output.
    /// </summary>
    private struct Job
    {
        public long* Starts;
        public KernelPath Path;
        public float* Input;
        public long InputWidth;
        public float* Weights;
        public float* UpWeights;
        public long WeightRows;
        public float* Output;
        public float* UpOutput;
        public long BlockRows;
        public int BlocksPerExpert;
    }

    private static void RunBlocks(ref Job job, int experts, int threads)
    {
        job.BlockRows = Math.Max(4, BlockBytes / (job.InputWidth * sizeof(float)) & ~3L);
        job.BlocksPerExpert = (int)((job.WeightRows + job.BlockRows - 1) / job.BlockRows);
        SharedChunkRunner.Run(experts * job.BlocksPerExpert, threads - 1, &RunBlock, Unsafe.AsPointer(ref job));
    }

    private static void RunBlock(void* arguments, int chunk)
    {
        ref var job = ref Unsafe.AsRef<Job>(arguments);
        int expert = chunk / job.BlocksPerExpert;
        long start = job.Starts[expert], count = job.Starts[expert + 1] - start;
        if (count == 0) return;
        long from = chunk % job.BlocksPerExpert * job.BlockRows, to = Math.Min(job.WeightRows, from + job.BlockRows);
        long matrix = expert * job.WeightRows * job.InputWidth;
        float* input = job.Input + start * job.InputWidth, output = job.Output + start * job.WeightRows;
        FloatGemm.Block(input, count, job.Weights + matrix, job.WeightRows, job.InputWidth, output, from, to, job.Path);
        if (job.UpWeights == null) return;
        float* upOutput = job.UpOutput + start * job.WeightRows;
        FloatGemm.Block(input, count, job.UpWeights + matrix, job.WeightRows, job.InputWidth, upOutput, from, to, job.Path);
        for (long row = 0; row < count; row++)
            VectorGelu.GeluTimes(output + row * job.WeightRows + from, upOutput + row * job.WeightRows + from, to - from, job.Path);
    }
}
