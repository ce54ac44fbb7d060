using System.CommandLine;
using System.Diagnostics;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Hooks;
using GrokLens.Loading;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens bench</c>: the cost of hooks, measured in one process on a small random Grok-architecture model:
/// a plain forward pass, one capture, every capture, one replacing hook function, and KV-cached greedy generation.
/// Each case runs once to warm up, then <c>--repeats</c> times; the table shows medians.
/// </summary>
public static class BenchCommand
{
    public const string OneHook = "blocks.0.hook_resid_post";
    public const string ReplacedHook = "blocks.1.hook_resid_mid";

    public static GrokConfig BenchConfig(int maxPositions) => new()
    {
        VocabSize = 16384,
        HiddenSize = 256,
        NumLayers = 4,
        NumHeads = 8,
        NumKvHeads = 2,
        HeadDim = 32,
        NumExperts = 8,
        TopK = 2,
        ExpertSize = 512,
        MaxPositions = Math.Max(1024, maxPositions),
        EmbeddingMultiplier = Math.Sqrt(256), // RandomWeightSource's N(0, 1/D) embedding × √D ≈ unit scale.
        AttnOutputMultiplier = 1 / Math.Sqrt(32),
    };

    public static Command Create(CliIO io)
    {
        var tokens = new Option<int>("--tokens") { Description = "Prompt length of the forward passes.", DefaultValueFactory = _ => 128 };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per case (after one warm-up); the median is shown.", DefaultValueFactory = _ => 5 };
        var generate = new Option<int>("--generate") { Description = "Tokens to generate in the generation case; 0 skips it.", DefaultValueFactory = _ => 32 };
        var command = new Command("bench", "Measure the overhead of captures and hook functions on a small random model.")
        {
            tokens, repeats, generate,
        };
        command.SetAction(parse => Run(io, parse.GetValue(tokens), parse.GetValue(repeats), parse.GetValue(generate)));
        return command;
    }

    private static int Run(CliIO io, int tokenCount, int repeats, int generateCount)
    {
        if (tokenCount < 1) throw new UsageException("--tokens must be at least 1.");
        if (repeats < 1) throw new UsageException("--repeats must be at least 1.");
        if (generateCount < 0) throw new UsageException("--generate must be 0 or more.");
        var config = BenchConfig(tokenCount + generateCount);
        if (tokenCount + generateCount > config.MaxPositions)
            throw new UsageException($"--tokens + --generate must fit in {config.MaxPositions} positions.");

        using var model = new LoadedModel("bench-random", new GrokModel(config, new RandomWeightSource(seed: 1234)),
            tokenizer: null, source: "random", format: "random float32");
        var random = new Random(42);
        var prompt = Enumerable.Range(0, tokenCount).Select(_ => random.Next(1, config.VocabSize)).ToArray();
        int allHooks = model.HookNames.Count;

        io.Out.WriteLine($"GrokLens {GrokLensInfo.Version} bench: random model, vocab {config.VocabSize}, D {config.HiddenSize}, " +
                         $"{config.NumLayers} layers, {config.NumHeads} heads / {config.NumKvHeads} KV heads of {config.HeadDim}, " +
                         $"{config.NumExperts} experts of {config.ExpertSize}, top-{config.TopK} " +
                         $"({Format.Count(config.ParameterCount)} parameters)");
        io.Out.WriteLine($"{tokenCount} tokens, median of {repeats} after a warm-up, torch threads: {get_num_threads()}, device: cpu");
        io.Out.WriteLine();

        var rows = new List<(string Case, double Ms, string Note)>();
        double plain = Median(repeats, () => Forward(model, prompt, new RunOptions()));
        rows.Add(("forward pass, no hooks", plain, ""));
        rows.Add(($"capture {OneHook}",
            Median(repeats, () => Forward(model, prompt, RunOptions.CaptureOnly(OneHook))), "1 hook"));
        rows.Add(("capture '*'",
            Median(repeats, () => Forward(model, prompt, RunOptions.CaptureOnly("*"))), $"{allHooks} hooks"));
        HookFunction scale = (activation, _) => activation * 1.0;
        rows.Add(($"hook function on {ReplacedHook} (×1.0)",
            Median(repeats, () => Forward(model, prompt, new RunOptions { Hooks = [(ReplacedHook, scale)] })), "replaces the activation"));
        if (generateCount > 0)
        {
            var sampling = SamplingOptions.Greedy(generateCount) with { StopAtEos = false };
            var decodeRates = new List<double>();
            double generation = Median(repeats, () =>
            {
                var clock = Stopwatch.StartNew();
                double first = 0;
                int count = 0;
                foreach (var _ in TextGenerator.Generate(model, prompt, sampling))
                    if (count++ == 0) first = clock.Elapsed.TotalSeconds;
                if (count > 1) decodeRates.Add((count - 1) / (clock.Elapsed.TotalSeconds - first));
            }, afterWarmUp: decodeRates.Clear);
            double totalRate = generateCount / (generation / 1000);
            string decode = decodeRates.Count > 0 ? $", {Format.Number(MedianOf(decodeRates), "0.0")} after the first" : "";
            rows.Add(($"greedy generation, {generateCount} tokens (KV cache)", generation,
                $"{Format.Number(totalRate, "0.0")} tokens/s incl. the {tokenCount}-token prompt{decode}"));
        }

        int width = Math.Max(4, rows.Max(r => r.Case.Length));
        io.Out.WriteLine($"{"case".PadRight(width)}  {"median ms",10}  {"× plain",8}  note");
        io.Out.WriteLine(new string('-', width + 2 + 10 + 2 + 8 + 2 + 4));
        foreach (var (name, ms, note) in rows)
            io.Out.WriteLine($"{name.PadRight(width)}  {Format.Number(ms, "0.00"),10}  {Format.Number(ms / plain, "0.00"),8}  {note}");
        return CliApp.Ok;
    }

    private static void Forward(LoadedModel model, int[] prompt, RunOptions options)
    {
        using var result = model.Run(prompt, options);
    }

    /// <summary>Runs once to warm up, then <paramref name="repeats"/> timed runs; returns the median in ms.</summary>
    private static double Median(int repeats, Action action, Action? afterWarmUp = null)
    {
        action();
        afterWarmUp?.Invoke();
        var times = new List<double>(repeats);
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return MedianOf(times);
    }

    private static double MedianOf(List<double> values)
    {
        var sorted = values.Order().ToList();
        int middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
