using System.Diagnostics;
using System.Text.Json;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Kernels;
using GrokLens.Loading;
using GrokLens.Loading.Quantization;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens bench --model PATH --weights int8 --tokens N --generate M [--json]</c>: a real checkpoint loaded with
/// int8 weights (mapped, int8 kernels), timed as a user runs it: greedy generation of M tokens after an N-token
/// prompt; prefill is the time to the first token, decode the time per token after it (medians of --repeats rounds
/// after one warm-up round). Also the process's peak resident memory, and the memory-bandwidth bound measured in the
/// same run: the time to read once the bytes a decode step must read (each layer's four attention matrices and two
/// experts' three matrices), and decode's ratio to it. CPU times (all threads) are printed beside wall times: on a
/// machine shared with other jobs, wall time includes waiting for a core.
/// </summary>
internal static class ModelBench
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static int Run(CliIO io, string path, string weights, int tokenCount, int generateCount, int repeats, bool json)
    {
        if (weights != "int8") throw new UsageException($"--weights must be int8 (the int8 kernels on the mapped weights), got '{weights}'.");
        if (tokenCount < 1) throw new UsageException("--tokens must be at least 1.");
        if (generateCount < 2) throw new UsageException("--generate must be at least 2 (decode is timed after the first token).");
        if (repeats < 1) throw new UsageException("--repeats must be at least 1.");

        GC.Collect();
        PeakMemory.Reset();
        var loadClock = Stopwatch.StartNew();
        using var model = ModelLoader.Load(path, new LoadOptions { Int8Weights = true });
        double loadSeconds = loadClock.Elapsed.TotalSeconds;
        var config = model.Config;
        if (tokenCount + generateCount > config.MaxPositions)
            throw new UsageException($"--tokens + --generate must fit in the model's {config.MaxPositions} positions.");
        var prompt = Enumerable.Range(0, tokenCount).Select(i => 1 + i * 389 % (config.VocabSize - 1)).ToArray();
        if (!json)
            io.Out.WriteLine($"Model bench: {path} ({model.Format}), loaded in {loadSeconds:0.0} s; {tokenCount}-token prompt, " +
                             $"{generateCount} generated tokens (greedy, KV cache), torch threads {get_num_threads()}, " +
                             $"median of {repeats} rounds after a warm-up");

        var regions = DecodeRegions(model.Model.MatrixSource!, config);
        var prefill = new List<double>();
        var decode = new List<double>();
        var prefillCpu = new List<double>();
        var decodeCpu = new List<double>();
        var bound = new List<double>();
        for (int round = 0; round <= repeats; round++)
        {
            var timing = Generate(model, prompt, generateCount);
            double boundSeconds = MemoryBandwidth.ReadSeconds(regions, repeats: 1);
            if (round == 0) continue; // the warm-up maps the pages in and compiles the code
            prefill.Add(timing.First * 1000);
            decode.Add(timing.PerToken * 1000);
            prefillCpu.Add(timing.FirstCpu * 1000);
            decodeCpu.Add(timing.PerTokenCpu * 1000);
            bound.Add(boundSeconds * 1000);
        }
        var result = new
        {
            model = path,
            weights,
            tokens = tokenCount,
            generate = generateCount,
            threads = get_num_threads(),
            load_s = loadSeconds,
            prefill_ms = BenchCommand.MedianOf(prefill),
            decode_ms_per_token = BenchCommand.MedianOf(decode),
            peak_rss_bytes = PeakMemory.PeakBytes(),
            bandwidth_bound_ms_per_token = BenchCommand.MedianOf(bound),
            decode_bytes_per_token = regions.Sum(r => r.Length),
            decode_to_bound_ratio = BenchCommand.MedianOf(decode) / BenchCommand.MedianOf(bound),
            prefill_cpu_ms = BenchCommand.MedianOf(prefillCpu),
            decode_cpu_ms_per_token = BenchCommand.MedianOf(decodeCpu),
        };
        if (json)
        {
            io.Out.WriteLine(JsonSerializer.Serialize(result, Json));
            return CliApp.Ok;
        }
        io.Out.WriteLine($"prefill ({tokenCount} tokens, to the first generated token)  {result.prefill_ms,10:0.0} ms   " +
                         $"(min {prefill.Min():0.0}, max {prefill.Max():0.0}; CPU {result.prefill_cpu_ms:0.0} ms)");
        io.Out.WriteLine($"decode per token                                {result.decode_ms_per_token,10:0.0} ms   " +
                         $"(min {decode.Min():0.0}, max {decode.Max():0.0}; CPU {result.decode_cpu_ms_per_token:0.0} ms)");
        io.Out.WriteLine($"bandwidth bound per token                       {result.bandwidth_bound_ms_per_token,10:0.0} ms   " +
                         $"(reading {DeviceMapFormat(result.decode_bytes_per_token)} once); decode / bound = {result.decode_to_bound_ratio:0.00}");
        io.Out.WriteLine($"peak resident memory (VmHWM)                    {(result.peak_rss_bytes is { } peak ? DeviceMapFormat(peak) : "unknown"),13}");
        return CliApp.Ok;
    }

    private static string DeviceMapFormat(long bytes) => Loading.Placement.DeviceMap.Format(bytes);

    private readonly record struct Timing(double First, double PerToken, double FirstCpu, double PerTokenCpu);

    /// <summary>Seconds (wall and CPU) to the first token, and per token after it.</summary>
    private static Timing Generate(LoadedModel model, int[] prompt, int count)
    {
        var sampling = SamplingOptions.Greedy(count) with { StopAtEos = false };
        var clock = Stopwatch.StartNew();
        double cpuStart = ProcessCpuTime.Seconds(), first = 0, firstCpu = 0;
        int generated = 0;
        foreach (var _ in TextGenerator.Generate(model, prompt, sampling))
            if (generated++ == 0)
            {
                first = clock.Elapsed.TotalSeconds;
                firstCpu = ProcessCpuTime.Seconds() - cpuStart;
            }
        int after = Math.Max(1, generated - 1);
        return new Timing(first, (clock.Elapsed.TotalSeconds - first) / after, firstCpu, (ProcessCpuTime.Seconds() - cpuStart - firstCpu) / after);
    }

    /// <summary>The bytes a decode step must read at least once: each layer's attention matrices and two experts.</summary>
    private static List<MemoryRegion> DecodeRegions(ILayerMatrixSource source, GrokConfig config)
    {
        var regions = new List<MemoryRegion>();
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            using var matrices = source.Acquire(layer);
            var a = matrices.Attention;
            foreach (var matrix in new[] { a.Query, a.Key, a.Value, a.Output })
                regions.Add(MemoryRegion.Of(Kernel(matrix).Weight));
            foreach (var experts in new[] { matrices.Experts.Gate, matrices.Experts.Up, matrices.Experts.Down })
                for (int e = 0; e < config.TopK; e++)
                    regions.Add(MemoryRegion.Of(Kernel(experts).Weight(e)));
        }
        return regions;
    }

    private static KernelMatrix Kernel(IMatrix matrix) => matrix as KernelMatrix
        ?? throw new UsageException("This checkpoint's matrices are not int8 on the CPU: --weights int8 needs a Q8_0 GGUF or xAI's raw release.");

    private static KernelExperts Kernel(IExpertMatrices experts) => experts as KernelExperts
        ?? throw new UsageException("This checkpoint's experts are not int8 on the CPU: --weights int8 needs a Q8_0 GGUF or xAI's raw release.");
}
