using System.Diagnostics;
using GrokLens.Checkpoints;
using GrokLens.Kernels;
using GrokLens.Tools;
using static TorchSharp.torch;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens bench --kernels</c>: the int8 matrix kernels on random matrices of Grok-1's and the bench model's
/// shapes, per layout (Q8_0 as in a GGUF file, xAI's row-scaled int8 after the repack) and path, against two baselines
/// measured in the same process: the time to read the same weight bytes (the memory-bandwidth bound) and GrokLens's
/// previous way, dequantising to float32 and calling torch's matmul. Rounds are interleaved; the table shows medians.
/// </summary>
internal static class KernelBench
{
    private sealed record Shape(string Name, long Rows, long Columns, int ScaleBlocks, long[] Tokens, bool Scalar);

    private static readonly Shape[] Shapes =
    [
        new("Grok-1 expert gate/up", 32768, 6144, 1, [1, 8], false),
        new("Grok-1 expert down", 6144, 32768, 8, [1, 8], false),
        new("Grok-1 attention q", 6144, 6144, 1, [1, 8], false),
        new("bench expert gate/up", 512, 256, 1, [1, 8, 128], true),
        new("bench expert down", 256, 512, 8, [1, 8, 128], true),
        new("bench attention q/o", 256, 256, 1, [1, 8, 128], true),
        new("bench attention k/v", 64, 256, 1, [1, 8, 128], true),
    ];

    /// <summary>Each timed sample repeats a case until it has run this long, so microsecond kernels are timed over many calls.</summary>
    private const double SampleSeconds = 0.05;

    private sealed record Case(string Shape, string Layout, string Path, long Tokens, long WeightBytes, Action Run, string Baseline, string Bound);

    public static int Run(CliIO io, int repeats, int threads)
    {
        if (repeats < 1) throw new UsageException("--repeats must be at least 1.");
        if (threads > 0) set_num_threads(threads);
        io.Out.WriteLine($"Int8 kernel bench: torch threads {get_num_threads()}, paths {string.Join(", ", KernelPaths.Supported)}, " +
                         $"median of {repeats} interleaved rounds; GB/s of weight bytes; × bound = time / time to read the same bytes " +
                         $"(cpu ×b: the same with CPU time, which waiting for a core on a shared machine does not inflate); " +
                         $"× torch = time / (dequantise to float32 + torch matmul)");
        io.Out.WriteLine($"{"shape",-22} {"layout",-9} {"path",-9} {"T",4} {"ms",9} {"GB/s",7} {"× bound",8} {"cpu ×b",8} {"× torch",8}");
        foreach (var shape in Shapes)
        {
            using var scope = NewDisposeScope();
            using var q8 = SyntheticInt8Matrix.Q8_0(shape.Rows, shape.Columns, seed: 1);
            using var raw = SyntheticInt8Matrix.RowScaled(shape.Rows, shape.Columns, shape.ScaleBlocks, roundToBFloat16: true, seed: 2);
            var cases = new List<Case>();
            var timed = new Dictionary<string, Action>();
            foreach (var (layout, matrix) in new[] { ("Q8_0", q8), ("xAI int8", raw) })
            {
                var w = matrix.Matrix;
                var quantized = matrix.ToQuantizedWeight();
                string bound = $"read {layout}";
                MemoryRegion[] region = [MemoryRegion.Of(w)];
                timed[bound] = () => MemoryBandwidth.Read(region);
                foreach (var tokens in shape.Tokens)
                {
                    var x = randn(tokens, shape.Columns);
                    var y = empty(tokens, shape.Rows);
                    string baseline = $"torch {layout} T={tokens}";
                    timed[baseline] = () =>
                    {
                        using var weight = quantized.Dequantize();
                        using var result = nn.functional.linear(x, weight);
                    };
                    foreach (var path in KernelPaths.Supported.Reverse())
                    {
                        if (path == KernelPath.Scalar && !shape.Scalar) continue;
                        var options = new Int8KernelOptions { Path = path };
                        cases.Add(new Case(shape.Name, layout, path.ToString(), tokens, w.ByteSize, () => Int8MatMul.Multiply(w, x, y, options), baseline, bound));
                    }
                    if (!KernelPaths.IsSupported(KernelPath.Vector512)) continue;
                    if (shape.Scalar)
                    {
                        // Small products: one thread against the default split, i.e. what waking a second thread costs.
                        var single = new Int8KernelOptions { Path = KernelPath.Vector512, Threads = 1 };
                        cases.Add(new Case(shape.Name, layout, "1 thread", tokens, w.ByteSize, () => Int8MatMul.Multiply(w, x, y, single), baseline, bound));
                    }
                    if (layout == "Q8_0") continue;
                    // Other ways to form bf16(q·s) on the widest path: integer rounding of the bits, and none at all (not exact).
                    foreach (var rounding in new[] { BFloat16Method.Integer, BFloat16Method.Skipped })
                    {
                        var options = new Int8KernelOptions { Path = KernelPath.Vector512, Rounding = rounding };
                        cases.Add(new Case(shape.Name, layout, $"{rounding}", tokens, w.ByteSize, () => Int8MatMul.Multiply(w, x, y, options), baseline, bound));
                    }
                }
            }
            foreach (var c in cases) timed[Key(c)] = c.Run;
            var seconds = Measure(timed, repeats);
            foreach (var c in cases)
            {
                var (wall, cpu) = seconds[Key(c)];
                io.Out.WriteLine($"{c.Shape,-22} {c.Layout,-9} {c.Path,-9} {c.Tokens,4} {wall * 1e3,9:0.000} {c.WeightBytes / wall / 1e9,7:0.0} " +
                                 $"{wall / seconds[c.Bound].Wall,8:0.00} {cpu / seconds[c.Bound].Cpu,8:0.00} {wall / seconds[c.Baseline].Wall,8:0.00}");
            }
        }
        Accuracy(io);
        io.Out.WriteLine("bound: MemoryBandwidth reading the matrix's bytes once with the same threads (the bench shapes fit in the L2 cache).");
        io.Out.WriteLine("'1 thread' rows: the Vector512 kernel on one thread (the others use torch's thread count above " +
                         $"{Int8MatMul.MinParallelWork / 1024} KB × tokens of weight).");
        io.Out.WriteLine("xAI int8 rows 'Integer' and 'Skipped': the Vector512 kernel forming bf16(q·s) by rounding the bits in integer " +
                         "registers, and not rounding at all (inexact: what rounding costs); the default forms it by splitting (a multiply and an FMA).");
        return CliApp.Ok;
    }

    /// <summary>
    /// The kernels' error on the first 256 rows of each shape, in units of u·Σ|w·x| (u = 2⁻²⁴, the float32 rounding unit;
    /// n·u·Σ|w·x| bounds any order of n float32 additions): against float64 on the dequantised weights, and against
    /// dequantise + torch's float32 matmul, whose own error vs float64 is shown for comparison.
    /// </summary>
    private static void Accuracy(CliIO io)
    {
        io.Out.WriteLine();
        io.Out.WriteLine("accuracy on the first 256 rows, max over rows and tokens of |error| / (u·Σ|w·x|), u = 2^-24:");
        io.Out.WriteLine($"{"shape",-22} {"layout",-9} {"T",4} {"kernel−f64",11} {"torch−f64",10} {"kernel−torch",13} {"max rel. to torch",18}");
        foreach (var shape in Shapes.Where(s => s.Rows * s.Columns >= 256 * 256))
        foreach (var layout in new[] { "Q8_0", "xAI int8" })
        foreach (var tokens in new long[] { 1, 8 })
        {
            using var scope = NewDisposeScope();
            using var matrix = layout == "Q8_0"
                ? SyntheticInt8Matrix.Q8_0(Math.Min(256, shape.Rows), shape.Columns, seed: 1)
                : SyntheticInt8Matrix.RowScaled(Math.Min(256, shape.Rows), shape.Columns, shape.ScaleBlocks, roundToBFloat16: true, seed: 2);
            var weight = matrix.ToQuantizedWeight().Dequantize();
            var x = randn(tokens, shape.Columns);
            var y = Int8MatMul.Multiply(matrix.Matrix, x).to_type(ScalarType.Float64);
            var exact = x.to_type(ScalarType.Float64).matmul(weight.to_type(ScalarType.Float64).t());
            var unit = x.abs().to_type(ScalarType.Float64).matmul(weight.abs().to_type(ScalarType.Float64).t()) * Math.Pow(2, -24);
            var reference = x.matmul(weight.t()).to_type(ScalarType.Float64);
            double Worst(Tensor a, Tensor b) => ((a - b).abs() / unit).max().item<double>();
            double relative = ((y - reference).abs().max() / reference.abs().max()).item<double>();
            io.Out.WriteLine($"{shape.Name,-22} {layout,-9} {tokens,4} {Worst(y, exact),11:0.00} {Worst(reference, exact),10:0.00} " +
                             $"{Worst(y, reference),13:0.00} {relative,18:0.0e0}");
        }
    }

    private static string Key(Case c) => $"{c.Shape}|{c.Layout}|{c.Path}|{c.Tokens}";

    /// <summary>
    /// Median wall and CPU seconds (all threads of this process) per call of each action: one warm-up, then
    /// <paramref name="repeats"/> rounds over all actions.
    /// </summary>
    private static Dictionary<string, (double Wall, double Cpu)> Measure(Dictionary<string, Action> actions, int repeats)
    {
        var calls = new Dictionary<string, int>();
        foreach (var (name, action) in actions)
        {
            var clock = Stopwatch.StartNew();
            action();
            calls[name] = (int)Math.Clamp(SampleSeconds / Math.Max(clock.Elapsed.TotalSeconds, 1e-7), 1, 100_000);
        }
        var wall = actions.Keys.ToDictionary(k => k, _ => new List<double>());
        var cpu = actions.Keys.ToDictionary(k => k, _ => new List<double>());
        for (int round = 0; round < repeats; round++)
            foreach (var (name, action) in actions)
            {
                double cpuStart = ProcessCpuTime.Seconds();
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < calls[name]; i++) action();
                wall[name].Add(clock.Elapsed.TotalSeconds / calls[name]);
                cpu[name].Add((ProcessCpuTime.Seconds() - cpuStart) / calls[name]);
            }
        return actions.Keys.ToDictionary(k => k, k => (BenchCommand.MedianOf(wall[k]), BenchCommand.MedianOf(cpu[k])));
    }
}
