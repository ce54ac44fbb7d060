using System.Diagnostics;
using GrokLens.Checkpoints.Xai;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Loading.Placement;
using GrokLens.Model;
using GrokLens.Tools;
using static TorchSharp.torch;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens bench --grok1-layers DIR</c>: two Grok-1 layers at full width (d 6144, 48 query heads, 8 KV heads of 128,
/// 8 experts of 32768; vocabulary reduced to 1024 so the embedding is 24 MiB) from a synthetic checkpoint in xAI's raw
/// int8 layout (≈ 9.2 GiB, written into DIR by <see cref="SyntheticXaiCheckpoint"/> unless DIR already holds one, and
/// deleted afterwards), run resident int8 and streamed. Checks the logits are identical and each mode's peak memory (VmHWM) is
/// within 16 GiB, and prints the time per token per layer.
/// </summary>
internal static class Grok1LayersBench
{
    public const long MemoryLimit = 16L << 30;
    private const int Seed = 1;

    public static GrokConfig Config { get; } = SyntheticModels.Grok1Layers(2);

    public static int Run(CliIO io, string folder, int tokenCount, bool keep)
    {
        if (tokenCount < 1) throw new UsageException("--tokens must be at least 1.");
        bool wrote = !XaiCheckpoint.IsRawCheckpoint(folder);
        try
        {
            if (wrote) Write(io, folder);
            var prompt = Enumerable.Range(0, tokenCount).Select(i => 1 + i * 389 % (Config.VocabSize - 1)).ToArray();
            io.Out.WriteLine($"Grok-1 layers bench: {Config.NumLayers} layers, d {Config.HiddenSize}, {Config.NumHeads} heads / " +
                             $"{Config.NumKvHeads} KV heads of {Config.HeadDim}, {Config.NumExperts} experts of {Config.ExpertSize}, " +
                             $"vocab {Config.VocabSize} (reduced); xAI raw int8 checkpoint; {tokenCount} tokens; torch threads {get_num_threads()}");
            var resident = Measure(io, folder, "resident int8", new LoadOptions { Int8Weights = true }, prompt);
            var streamed = Measure(io, folder, "streamed", new LoadOptions { StreamLayers = true, LayerProgress = new LayerReporter(io) }, prompt);
            bool identical = resident.Logits.equal(streamed.Logits).all().item<bool>();
            io.Out.WriteLine();
            io.Out.WriteLine($"{"mode",-14}  {"load s",7}  {"pass s",7}  {"ms/token/layer",14}  {"peak memory",12}");
            foreach (var m in new[] { resident, streamed })
                io.Out.WriteLine($"{m.Mode,-14}  {m.LoadSeconds,7:0.0}  {m.PassSeconds,7:0.0}  " +
                                 $"{1000 * m.PassSeconds / (tokenCount * Config.NumLayers),14:0.0}  {Peak(m.PeakBytes),12}");
            io.Out.WriteLine($"logits identical (resident int8 vs streamed): {(identical ? "yes" : "NO")}");
            bool withinLimit = new[] { resident, streamed }.All(m => m.PeakBytes is null or <= MemoryLimit);
            io.Out.WriteLine($"peak memory within {Format.Bytes(MemoryLimit)}: {(withinLimit ? "yes" : "NO")}");
            resident.Logits.Dispose();
            streamed.Logits.Dispose();
            return identical && withinLimit ? CliApp.Ok : CliApp.Failure;
        }
        finally
        {
            if (wrote && !keep) Delete(folder);
        }
    }

    private static Measurement Measure(CliIO io, string folder, string mode, LoadOptions options, int[] prompt)
    {
        GC.Collect();
        bool reset = PeakMemory.Reset();
        var clock = Stopwatch.StartNew();
        using var model = ModelLoader.Load(folder, options);
        double load = clock.Elapsed.TotalSeconds;
        io.Out.WriteLine($"{mode}: loaded in {load:0.0} s ({model.Format})");
        // One pass: each streamed pass reads every layer again, so a second one would only repeat the first's cost.
        var (seconds, logits) = Pass(model, prompt);
        io.Out.WriteLine($"{mode}: forward pass {seconds:0.0} s");
        return new Measurement(mode, load, seconds, reset ? PeakMemory.PeakBytes() : null, logits);
    }

    private static (double Seconds, Tensor Logits) Pass(LoadedModel model, int[] prompt)
    {
        var clock = Stopwatch.StartNew();
        using var result = model.Run(prompt);
        return (clock.Elapsed.TotalSeconds, result.Logits.clone());
    }

    /// <summary>config.json and ckpt-0 from GrokLens.Tools' synthetic writer, in chunks (never a whole tensor in memory).</summary>
    private static void Write(CliIO io, string folder)
    {
        io.Out.WriteLine($"writing a synthetic checkpoint (≈ 9.2 GiB) into {folder} …");
        var clock = Stopwatch.StartNew();
        SyntheticXaiCheckpoint.Write(folder, Config, Seed);
        io.Out.WriteLine($"written in {clock.Elapsed.TotalSeconds:0} s");
    }

    private static void Delete(string folder)
    {
        var checkpoint = Path.Combine(folder, XaiCheckpoint.FolderName);
        if (Directory.Exists(checkpoint)) Directory.Delete(checkpoint, recursive: true);
        File.Delete(Path.Combine(folder, ModelLoader.ConfigFileName));
        if (!Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
    }

    private static string Peak(long? bytes) => bytes is null ? "n/a" : Format.Bytes(bytes.Value);

    private sealed record Measurement(string Mode, double LoadSeconds, double PassSeconds, long? PeakBytes, Tensor Logits);

    private sealed class LayerReporter(CliIO io) : IProgress<LayerProgress>
    {
        public void Report(LayerProgress value) =>
            io.Out.WriteLine($"  layer {value.Layer}: {Format.Bytes(value.Bytes)} read in {value.ReadTime.TotalSeconds:0.0} s, waited {value.WaitTime.TotalSeconds:0.0} s");
    }
}
