using System.Diagnostics;
using GrokLens.Cluster;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Loading;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens bench --cluster</c>: the cluster against the in-process engine on this machine, in one run. grok-tiny
/// split 0-1 | 2-3 over two silo processes (development clustering on 127.0.0.1): every hook captured, and greedy
/// generation, as ratios. With <c>--grok1-gguf</c> also two full-width Grok-1 layers, one per silo process (streamed
/// int8 so two silos stay within ≈ 12 GB), against both layers in this process: identical logits, time per token.
/// </summary>
public static class ClusterBench
{
    public static int Run(CliIO io, int tokenCount, int repeats, int generateCount, string? grok1Gguf)
    {
        if (repeats < 1) throw new UsageException("--repeats must be at least 1.");
        var root = RepositoryRoot();
        var tiny = Path.Combine(root, "models", "grok-tiny");
        io.Out.WriteLine($"GrokLens {GrokLensInfo.Version} cluster bench: silo processes on 127.0.0.1, client and in-process engine in this process");
        io.Out.WriteLine($"load: {File.ReadAllText("/proc/loadavg").Trim()}");
        io.Out.WriteLine();
        using (var local = ModelLoader.Load(tiny))
        using (var silos = LocalSilos.Start(io, [["--model", tiny, "--name", "grok-tiny", "--layers", "0-1"], ["--model", tiny, "--name", "grok-tiny", "--layers", "2-3"]]))
        {
            using var connection = ClusterClientFactory.ConnectAsync(silos.Address).GetAwaiter().GetResult();
            var engine = WaitForModel(connection, "grok-tiny");
            var text = string.Join(' ', Enumerable.Repeat("The little fox ran to the river and looked at the water.", 20));
            var prompt = local.Encode(text).Take(tokenCount).ToArray();
            var sampling = SamplingOptions.Greedy(generateCount) with { StopAtEos = false };
            var capture = RunOptions.CaptureOnly("*");
            using (var a = local.Run(prompt, capture))
            using (var b = engine.Run(prompt, capture))
                if (!Same(a.Logits, b.Logits) || !a.Cache.Names.SequenceEqual(b.Cache.Names) || a.Cache.Names.Any(n => !Same(a.Cache[n], b.Cache[n])))
                    throw new CliException("the cluster's captures differ from the in-process ones.");
            if (!local.Generate(prompt, sampling).Select(t => t.Id).SequenceEqual(engine.Generate(prompt, sampling).Select(t => t.Id)))
                throw new CliException("the cluster generated other tokens than the in-process engine.");

            // Logits only shows the fixed cost of a run through the cluster (three round trips); '*' adds moving every capture.
            var logitsOnly = new RunOptions();
            var passTimes = (Local: new List<double>(), Cluster: new List<double>());
            var captureTimes = (Local: new List<double>(), Cluster: new List<double>());
            var generateRates = (Local: new List<double>(), Cluster: new List<double>());
            for (int round = -1; round < repeats; round++) // Round -1 warms up.
            {
                foreach (var (engineUnderTest, passes, times, rates) in new[]
                         {
                             ((IModelEngine)local, passTimes.Local, captureTimes.Local, generateRates.Local),
                             (engine, passTimes.Cluster, captureTimes.Cluster, generateRates.Cluster),
                         })
                {
                    var clock = Stopwatch.StartNew();
                    using (engineUnderTest.Run(prompt, logitsOnly)) { }
                    double passMs = clock.Elapsed.TotalMilliseconds;
                    clock.Restart();
                    using (engineUnderTest.Run(prompt, capture)) { }
                    double ms = clock.Elapsed.TotalMilliseconds;
                    clock.Restart();
                    double first = 0;
                    int count = 0;
                    foreach (var _ in engineUnderTest.Generate(prompt, sampling))
                        if (count++ == 0) first = clock.Elapsed.TotalSeconds;
                    if (round < 0) continue;
                    passes.Add(passMs);
                    times.Add(ms);
                    rates.Add((count - 1) / (clock.Elapsed.TotalSeconds - first));
                }
            }
            io.Out.WriteLine($"grok-tiny ({local.Config.NumLayers} layers, D {local.Config.HiddenSize}), {prompt.Length} tokens, shards 0-1 | 2-3 on two silo processes, " +
                             $"median of {repeats} interleaved rounds; results identical to in-process (checked)");
            io.Out.WriteLine($"{"case",-46} {"in-process",12} {"cluster",12} {"ratio",8}");
            double localPass = BenchCommand.MedianOf(passTimes.Local), clusterPass = BenchCommand.MedianOf(passTimes.Cluster);
            io.Out.WriteLine($"{"prompt pass, logits only, ms",-46} {localPass,12:0.0} {clusterPass,12:0.0} {clusterPass / localPass,7:0.00}×");
            double localCapture = BenchCommand.MedianOf(captureTimes.Local), clusterCapture = BenchCommand.MedianOf(captureTimes.Cluster);
            io.Out.WriteLine($"{$"capture '*' ({local.HookNames.Count} hooks), ms",-46} {localCapture,12:0.0} {clusterCapture,12:0.0} {clusterCapture / localCapture,7:0.00}×");
            // What moving the captures costs without any network: each tensor into a message's bytes and back.
            var copies = new List<double>();
            long captureBytes = 0;
            using (var run = local.Run(prompt, capture))
                for (int round = 0; round < repeats; round++)
                {
                    var clock = Stopwatch.StartNew();
                    captureBytes = 0;
                    foreach (var name in run.Cache.Names)
                    {
                        var message = GrokLens.Cluster.Contracts.TensorData.From(run.Cache[name]);
                        captureBytes += message.ByteCount;
                        using var back = message.ToTensor();
                    }
                    copies.Add(clock.Elapsed.TotalMilliseconds);
                }
            io.Out.WriteLine($"{$"  of which copying {captureBytes / 1048576.0:0.0} MiB of captures in and out of messages, ms",-46} {"",12} {BenchCommand.MedianOf(copies),12:0.0}");
            double localRate = BenchCommand.MedianOf(generateRates.Local), clusterRate = BenchCommand.MedianOf(generateRates.Cluster);
            io.Out.WriteLine($"{$"greedy generation after the first token, tokens/s",-46} {localRate,12:0.0} {clusterRate,12:0.0} {localRate / clusterRate,7:0.00}×");
            io.Out.WriteLine();
        }
        if (grok1Gguf is not null) Grok1(io, grok1Gguf);
        return CliApp.Ok;
    }

    /// <summary>Two Grok-1 layers: both in this process, then one per silo process; same logits, time per token.</summary>
    private static void Grok1(CliIO io, string gguf)
    {
        if (!File.Exists(gguf)) throw new CliException($"{gguf} not found (the two-layer Grok-1 Q8_0 GGUF).");
        int[] prompt = [1, 422, 633, 290]; // Below 1,024: the synthetic file keeps a cut vocabulary.
        var options = new LoadOptions { StreamLayers = true };
        float[] localLogits;
        double localPrefill, localStep;
        using (var local = ModelLoader.Load(gguf, options))
            (localLogits, localPrefill, localStep) = TimeGrok1(local, prompt);
        using var silos = LocalSilos.Start(io,
            [["--model", gguf, "--name", "grok1-2", "--layers", "0", "--weights", "stream"], ["--model", gguf, "--name", "grok1-2", "--layers", "1", "--weights", "stream"]]);
        using var connection = ClusterClientFactory.ConnectAsync(silos.Address).GetAwaiter().GetResult();
        var engine = WaitForModel(connection, "grok1-2");
        var (clusterLogits, clusterPrefill, clusterStep) = TimeGrok1(engine, prompt);
        bool same = localLogits.AsSpan().SequenceEqual(clusterLogits);
        io.Out.WriteLine($"Grok-1, two full-width layers (Q8_0 GGUF, streamed int8 per layer), {prompt.Length}-token prompt; one process vs layer 0 | layer 1 on two silo processes");
        io.Out.WriteLine($"{"case",-46} {"one process",12} {"two silos",12} {"ratio",8}");
        io.Out.WriteLine($"{"prompt pass, s",-46} {localPrefill,12:0.00} {clusterPrefill,12:0.00} {clusterPrefill / localPrefill,7:0.00}×");
        io.Out.WriteLine($"{"one generated token (KV cache), s",-46} {localStep,12:0.00} {clusterStep,12:0.00} {clusterStep / localStep,7:0.00}×");
        io.Out.WriteLine($"logits of the last position identical: {(same ? "yes" : "NO")}");
        if (!same) throw new CliException("the two-silo Grok-1 logits differ from the one-process logits.");
    }

    private static (float[] Logits, double PrefillSeconds, double StepSeconds) TimeGrok1(IModelEngine engine, int[] prompt)
    {
        var clock = Stopwatch.StartNew();
        float[] logits;
        using (var run = engine.Run(prompt)) logits = run.Logits[^1].data<float>().ToArray();
        double prefill = clock.Elapsed.TotalSeconds;
        clock.Restart();
        double first = 0;
        foreach (var _ in engine.Generate(prompt, SamplingOptions.Greedy(2) with { StopAtEos = false }))
            if (first == 0) first = clock.Elapsed.TotalSeconds;
        return (logits, prefill, clock.Elapsed.TotalSeconds - first);
    }

    private static bool Same(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var equal = a.eq(b).all();
        return equal.item<bool>();
    }

    private static ClusterModel WaitForModel(ClusterConnection connection, string model)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                var engine = ClusterModel.ConnectAsync(connection.Client, model).GetAwaiter().GetResult();
                if (engine.Layout.Shards.Count == 2) return engine;
            }
            catch (UnknownModelException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow > deadline) throw new CliException($"the silos did not offer {model} in two shards within 2 minutes.");
            Thread.Sleep(200);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "GrokLens.sln"))) return directory.FullName;
        return Directory.GetCurrentDirectory();
    }
}
