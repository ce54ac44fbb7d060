using System.Diagnostics;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Loading.Placement;
using GrokLens.Model;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens bench --streaming</c>: writes the bench model as a float32 safetensors checkpoint, then measures in one
/// process the file's sequential read bandwidth, a resident forward pass and a layer-streamed forward pass, and how
/// close streaming gets to the read bandwidth (layer bytes per second of the streamed pass).
/// </summary>
internal static class StreamingBench
{
    public static int Run(CliIO io, int tokenCount, int repeats)
    {
        var config = BenchCommand.BenchConfig(tokenCount);
        var folder = Path.Combine(Path.GetTempPath(), "groklens-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var model = new GrokModel(config, new RandomWeightSource(seed: 1234))) CheckpointWriter.Save(model, folder);
            var file = Path.Combine(folder, "model.safetensors");
            long layerBytes = config.NumLayers * ModelLoader.LayerBytes(config, int8: false);
            var prompt = Enumerable.Range(0, tokenCount).Select(i => 1 + i * 7919 % (config.VocabSize - 1)).ToArray();

            using var resident = ModelLoader.Load(folder);
            var reports = new List<LayerProgress>();
            using var streamed = ModelLoader.Load(folder, new LoadOptions { StreamLayers = true, LayerProgress = new Reporter(reports.Add) });
            Forward(resident, prompt);
            Forward(streamed, prompt);

            var read = new List<double>();
            var residentMs = new List<double>();
            var streamedMs = new List<double>();
            for (int repeat = 0; repeat < repeats; repeat++)
            {
                read.Add(ReadAll(file));
                residentMs.Add(Forward(resident, prompt));
                reports.Clear();
                streamedMs.Add(Forward(streamed, prompt));
            }
            double readBandwidth = Median(read);
            double streamedBandwidth = layerBytes / (Median(streamedMs) / 1000);
            io.Out.WriteLine($"Streaming bench: {config.NumLayers} layers of {Format.Bytes(ModelLoader.LayerBytes(config, false))} (float32 safetensors), " +
                             $"{tokenCount} tokens, median of {repeats}");
            io.Out.WriteLine($"file read bandwidth (same process; page cache if the file is cached): {readBandwidth / (1L << 30):0.00} GiB/s");
            io.Out.WriteLine($"resident forward pass:  {Median(residentMs),8:0.0} ms");
            io.Out.WriteLine($"streamed forward pass:  {Median(streamedMs),8:0.0} ms  ({Median(streamedMs) / Median(residentMs):0.00} × resident)");
            io.Out.WriteLine($"streamed layer throughput: {streamedBandwidth / (1L << 30):0.00} GiB/s = {streamedBandwidth / readBandwidth:0.00} × read bandwidth");
            foreach (var r in reports)
                io.Out.WriteLine($"  layer {r.Layer}: read {r.ReadTime.TotalMilliseconds:0.0} ms in the background, waited {r.WaitTime.TotalMilliseconds:0.0} ms");
            return CliApp.Ok;
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static double Forward(LoadedModel model, int[] prompt)
    {
        var clock = Stopwatch.StartNew();
        using var result = model.Run(prompt);
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>Bytes per second of one sequential read of the whole file.</summary>
    private static double ReadAll(string path)
    {
        var buffer = new byte[1 << 20];
        var clock = Stopwatch.StartNew();
        long total = 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        int n;
        while ((n = stream.Read(buffer)) > 0) total += n;
        return total / clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private sealed class Reporter(Action<LayerProgress> report) : IProgress<LayerProgress>
    {
        public void Report(LayerProgress value) => report(value);
    }
}
