using System.CommandLine;
using System.Diagnostics;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Model;
using GrokLens.Tools;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens synthesize</c>: writes a random Grok-architecture checkpoint for benchmarks: a GGUF (arch grok, loadable by
/// llama.cpp too) or xAI's raw int8 layout, of full-width Grok-1 layers (vocabulary 1,024) or of the bench model.
/// </summary>
public static class SynthesizeCommand
{
    public static Command Create(CliIO io)
    {
        var format = new Option<string>("--format") { Description = "gguf or xai (xAI's raw ckpt-0 layout).", DefaultValueFactory = _ => "gguf" };
        var preset = new Option<string>("--preset")
        {
            Description = "grok1-layers: full-width Grok-1 layers with a 1,024-token vocabulary; bench: the model of 'groklens bench'.",
            DefaultValueFactory = _ => "grok1-layers",
        };
        var layers = new Option<int>("--layers") { Description = "Layers of the grok1-layers preset (two are 10.5 GB as Q8_0).", DefaultValueFactory = _ => 2 };
        var matrices = new Option<string>("--matrices") { Description = "GGUF projection matrices: q8_0 or f32.", DefaultValueFactory = _ => "q8_0" };
        var seed = new Option<int>("--seed") { Description = "Random seed; the same seed writes the same bytes.", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out", "-o") { Description = "The .gguf file, or the folder for xai (config.json + ckpt-0).", Required = true };
        var command = new Command("synthesize", "Write a random Grok-architecture checkpoint (GGUF or xAI raw int8) for benchmarks.")
        {
            format, preset, layers, matrices, seed, output,
        };
        command.SetAction(parse => Run(io, parse.GetValue(format)!, parse.GetValue(preset)!, parse.GetValue(layers),
            parse.GetValue(matrices)!, parse.GetValue(seed), parse.GetValue(output)!));
        return command;
    }

    private static int Run(CliIO io, string format, string preset, int layers, string matrices, int seed, string output)
    {
        if (layers < 1) throw new UsageException("--layers must be at least 1.");
        GrokConfig config = preset switch
        {
            "grok1-layers" => SyntheticModels.Grok1Layers(layers),
            "bench" => BenchCommand.BenchConfig(1024),
            _ => throw new UsageException($"--preset must be grok1-layers or bench, not '{preset}'."),
        };
        var matrixType = matrices switch
        {
            "q8_0" => GgmlType.Q8_0,
            "f32" => GgmlType.F32,
            _ => throw new UsageException($"--matrices must be q8_0 or f32, not '{matrices}'."),
        };
        var clock = Stopwatch.StartNew();
        var progress = new Progress(io, clock);
        switch (format)
        {
            case "gguf":
                SyntheticGguf.Write(output, config, matrixType, seed, progress);
                break;
            case "xai":
                if (matrices != "q8_0") throw new UsageException("--matrices applies to gguf; the xai layout is always int8.");
                SyntheticXaiCheckpoint.Write(output, config, seed, progress);
                break;
            default:
                throw new UsageException($"--format must be gguf or xai, not '{format}'.");
        }
        io.Out.WriteLine($"wrote {output}: {config.NumLayers} layers, d {config.HiddenSize}, {config.NumExperts} experts of " +
                         $"{config.ExpertSize}, vocab {config.VocabSize}, {Format.Bytes(progress.Last)} in {clock.Elapsed.TotalSeconds:0.0} s");
        return CliApp.Ok;
    }

    /// <summary>Prints the bytes written at most every 5 seconds.</summary>
    private sealed class Progress(CliIO io, Stopwatch clock) : IProgress<long>
    {
        private double _printed;

        public long Last { get; private set; }

        public void Report(long value)
        {
            Last = value;
            if (clock.Elapsed.TotalSeconds - _printed < 5) return;
            _printed = clock.Elapsed.TotalSeconds;
            io.Out.WriteLine($"  {Format.Bytes(value)} written ({value / 1e6 / clock.Elapsed.TotalSeconds:0} MB/s)");
        }
    }
}
