using System.Diagnostics;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Checkpoints.Xai;
using GrokLens.Kernels;
using GrokLens.Kernels.Repack;
using GrokLens.Loading;
using GrokLens.Loading.Gguf;
using GrokLens.Loading.Naming;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens bench --kernels --model FILE</c>: the int8 matrix products of a decode step and of an 8-token prefill,
/// run by the kernels on the weights where they lie (a mapped Q8_0 GGUF, or xAI's raw release through the repack
/// cache), against the time this machine takes to read the same bytes, measured in the same process. A decode step
/// reads every layer's four attention matrices and two experts' three matrices (any two: each is the same size); the
/// prefill multiplies 8 tokens by the attention matrices and 2 tokens by each expert (8 tokens × top-2 over 8 experts).
/// Only the matrix products are timed: norms, attention scores and the router are left to the model (phase 2).
/// </summary>
internal static class DecodeStepBench
{
    private const int PrefillTokens = 8;

    private sealed record Product(Int8Matrix Matrix, long Tokens);

    /// <param name="paths">One model, or several separated by commas (e.g. the same layers as GGUF and as xAI's release):
    /// their decode steps are measured in interleaved rounds, so they meet the same machine load.</param>
    public static int Run(CliIO io, string paths, int repeats)
    {
        if (repeats < 1) throw new UsageException("--repeats must be at least 1.");
        var disposables = new List<IDisposable>();
        try
        {
            using var scope = NewDisposeScope();
            var models = paths.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(path => Plan(io, path, disposables)).ToList();
            io.Out.WriteLine($"Decode-step kernels: torch threads {get_num_threads()}, median of {repeats} interleaved rounds; " +
                             "bound = time to read the same bytes once with the same threads");
            // Decode steps (a few GB each) interleaved across models; then each model's prefill, which reads the whole file.
            var decode = models.Select(_ => new Samples()).ToList();
            for (int round = 0; round <= repeats; round++)
                for (int m = 0; m < models.Count; m++)
                {
                    var bound = Time(() => MemoryBandwidth.Read(models[m].DecodeRegions));
                    var kernels = Time(() => RunAll(models[m].Decode));
                    if (round > 0) decode[m].Add(bound, kernels); // the first round maps the pages in
                }
            for (int m = 0; m < models.Count; m++)
            {
                var model = models[m];
                var prefill = new Samples();
                for (int round = 0; round <= repeats; round++)
                {
                    var bound = Time(() => MemoryBandwidth.Read(model.PrefillRegions));
                    var kernels = Time(() => RunAll(model.Prefill));
                    if (round > 0) prefill.Add(bound, kernels);
                }
                io.Out.WriteLine(model.Description);
                Report(io, "decode step", model.Decode, decode[m], model.Layers);
                Report(io, $"{PrefillTokens}-token prefill", model.Prefill, prefill, model.Layers);
            }
            return CliApp.Ok;
        }
        finally
        {
            foreach (var disposable in disposables) disposable.Dispose();
        }
    }

    /// <summary>Wall and CPU seconds (all threads of this process) of repeated bound and kernel runs.</summary>
    private sealed class Samples
    {
        public List<double> BoundWall { get; } = [];
        public List<double> BoundCpu { get; } = [];
        public List<double> KernelsWall { get; } = [];
        public List<double> KernelsCpu { get; } = [];

        public void Add((double Wall, double Cpu) bound, (double Wall, double Cpu) kernels)
        {
            BoundWall.Add(bound.Wall);
            BoundCpu.Add(bound.Cpu);
            KernelsWall.Add(kernels.Wall);
            KernelsCpu.Add(kernels.Cpu);
        }
    }

    /// <summary>
    /// Wall time, and CPU time: on a machine shared with other jobs the wall time includes waiting for a core, while the
    /// CPU time (which also counts threads waiting for memory or spinning) does not.
    /// </summary>
    private static void Report(CliIO io, string what, List<(Int8Matrix Matrix, Tensor X, Tensor Y)> products, Samples times, int layers)
    {
        long bytes = products.Sum(p => p.Matrix.ByteSize);
        double bound = BenchCommand.MedianOf(times.BoundWall), kernels = BenchCommand.MedianOf(times.KernelsWall);
        double boundCpu = BenchCommand.MedianOf(times.BoundCpu), kernelsCpu = BenchCommand.MedianOf(times.KernelsCpu);
        io.Out.WriteLine($"  {what}: {products.Count} products reading {Format.Bytes(bytes)}: kernels {kernels * 1e3:0.0} ms " +
                         $"({kernels * 1e3 / layers:0.0} ms per layer), bound {bound * 1e3:0.0} ms ({bytes / bound / 1e9:0.0} GB/s), ratio {kernels / bound:0.00}; " +
                         $"CPU time: kernels {kernelsCpu * 1e3:0.0} ms, bound {boundCpu * 1e3:0.0} ms, ratio {kernelsCpu / boundCpu:0.00}");
    }

    private sealed record ModelPlan(string Description, int Layers, List<(Int8Matrix Matrix, Tensor X, Tensor Y)> Decode, List<MemoryRegion> DecodeRegions,
        List<(Int8Matrix Matrix, Tensor X, Tensor Y)> Prefill, List<MemoryRegion> PrefillRegions);

    /// <summary>The products of a decode step and of an 8-token prefill of one model, with their input and output views.</summary>
    private static ModelPlan Plan(CliIO io, string path, List<IDisposable> disposables)
    {
        var (config, layers, description) = Open(io, path, disposables);
        var decode = layers.SelectMany(l => l.Attention.Select(m => new Product(m, 1))
            .Concat(l.Experts.SelectMany(stacked => Enumerable.Range(0, 2).Select(e => new Product(Expert(stacked, e, config), 1))))).ToList();
        int perExpert = PrefillTokens * config.TopK / config.NumExperts;
        var prefill = layers.SelectMany(l => l.Attention.Select(m => new Product(m, PrefillTokens))
            .Concat(l.Experts.SelectMany(stacked => Enumerable.Range(0, config.NumExperts).Select(e => new Product(Expert(stacked, e, config), perExpert))))).ToList();
        long width = Math.Max(config.HiddenSize, Math.Max(config.ExpertSize, (long)config.NumHeads * config.HeadDim));
        var x = randn(PrefillTokens * width);
        var y = empty(PrefillTokens * width);
        return new ModelPlan(description, config.NumLayers, Views(decode, x, y), decode.Select(p => MemoryRegion.Of(p.Matrix)).ToList(),
            Views(prefill, x, y), prefill.Select(p => MemoryRegion.Of(p.Matrix)).ToList());
    }

    private sealed record LayerMatrices(Int8Matrix[] Attention, Int8Matrix[] Experts);

    private static readonly WeightKind[] AttentionNames = [WeightKind.Query, WeightKind.Key, WeightKind.Value, WeightKind.AttentionOutput];
    private static readonly WeightKind[] ExpertNames = [WeightKind.ExpertGate, WeightKind.ExpertUp, WeightKind.ExpertDown];

    private static Int8Matrix Expert(Int8Matrix stacked, int expert, GrokConfig config)
    {
        long rows = stacked.Rows / config.NumExperts;
        return stacked.RowRange(expert * rows, rows);
    }

    private static (GrokConfig Config, List<LayerMatrices> Layers, string Description) Open(CliIO io, string path, List<IDisposable> disposables)
    {
        if (File.Exists(path) && path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            var file = GgufFile.Open(path);
            disposables.Add(file);
            var config = GgufGrokConfig.FromFile(file);
            var layers = Enumerable.Range(0, config.NumLayers).Select(l => new LayerMatrices(
                AttentionNames.Select(n => file.Q8_0Matrix(TensorNameTables.Gguf.PreferredName(new WeightId(n, l)))).ToArray(),
                ExpertNames.Select(n => file.Q8_0Matrix(TensorNameTables.Gguf.PreferredName(new WeightId(n, l)))).ToArray())).ToList();
            return (config, layers, $"{path} (Q8_0 GGUF, mapped)");
        }
        if (XaiCheckpoint.IsRawCheckpoint(path))
        {
            var configPath = new[] { Path.Combine(path, ModelLoader.ConfigFileName), Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? path, ModelLoader.ConfigFileName) }
                .FirstOrDefault(File.Exists);
            var config = configPath is null ? GrokConfig.Grok1 : GrokConfig.FromJsonFile(configPath);
            var checkpoint = XaiCheckpoint.Open(path, config.NumLayers);
            var cache = new XaiRepackCache(XaiRepackCache.DefaultFolder(checkpoint.Folder));
            var clock = Stopwatch.StartNew();
            var statuses = new List<string>();
            Int8Matrix Load(WeightId id)
            {
                var repacked = cache.Open(Path.Combine(checkpoint.Folder, XaiCheckpoint.FileName(XaiFileSlots.Locate(id, config.NumLayers)!.Value.Index)));
                disposables.Add(repacked);
                statuses.Add(repacked.Status.Split(':')[0]);
                return repacked.Matrix;
            }
            var layers = Enumerable.Range(0, config.NumLayers).Select(l => new LayerMatrices(
                AttentionNames.Select(n => Load(new WeightId(n, l))).ToArray(),
                ExpertNames.Select(n => Load(new WeightId(n, l))).ToArray())).ToList();
            io.Out.WriteLine($"repack cache {cache.Folder}: {string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{g.Count()} {g.Key}"))} " +
                             $"in {clock.Elapsed.TotalSeconds:0.0} s");
            return (config, layers, $"{checkpoint.Folder} (xAI int8, repacked and mapped)");
        }
        throw new UsageException($"--model for --kernels must be a Q8_0 .gguf file or xAI's raw ckpt-0 folder: {path}");
    }

    /// <summary>Each product reads the first tokens × in values of x and writes tokens × out values of y (views made once).</summary>
    private static List<(Int8Matrix Matrix, Tensor X, Tensor Y)> Views(List<Product> products, Tensor x, Tensor y) =>
        products.Select(p => (p.Matrix, x.narrow(0, 0, p.Tokens * p.Matrix.Columns).view(p.Tokens, p.Matrix.Columns),
            y.narrow(0, 0, p.Tokens * p.Matrix.Rows).view(p.Tokens, p.Matrix.Rows))).ToList();

    private static void RunAll(List<(Int8Matrix Matrix, Tensor X, Tensor Y)> products)
    {
        foreach (var (matrix, x, y) in products) Int8MatMul.Multiply(matrix, x, y);
    }

    private static (double Wall, double Cpu) Time(Action action)
    {
        double cpu = ProcessCpuTime.Seconds();
        var clock = Stopwatch.StartNew();
        action();
        return (clock.Elapsed.TotalSeconds, ProcessCpuTime.Seconds() - cpu);
    }
}
