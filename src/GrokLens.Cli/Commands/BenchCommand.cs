using System.CommandLine;
using System.Diagnostics;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Loading;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens bench</c>: the cost of hooks, measured in one process on a small random Grok-architecture model:
/// a plain forward pass, one capture, every capture, one replacing hook function, two interventions, and KV-cached
/// greedy generation. <c>--streaming</c>, <c>--grok1-layers</c>, <c>--dumps</c> and <c>--kernels</c> run other benches instead.
/// Each case runs once to warm up, then <c>--repeats</c> interleaved rounds; the table shows medians.
/// </summary>
public static class BenchCommand
{
    public const string OneHook = "blocks.0.hook_resid_post";
    public const string ReplacedHook = "blocks.1.hook_resid_mid";
    public const int WarmUpRounds = 3;

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
        var streaming = new Option<bool>("--streaming") { Description = "Instead: layer streaming from disk against the file's read bandwidth." };
        var grok1Layers = new Option<string>("--grok1-layers")
        {
            Description = "Instead: two full-width Grok-1 layers from a synthetic xAI int8 checkpoint (≈ 9.2 GiB, written into this folder " +
                          "and deleted afterwards), resident int8 vs streamed: identical logits, peak memory, time per token per layer.",
        };
        var keep = new Option<bool>("--keep") { Description = "With --grok1-layers: keep the synthetic checkpoint for another run." };
        var dumps = new Option<bool>("--dumps")
        {
            Description = "Instead: dump write and read (validated) speed in MiB/s against a plain file copy of the same bytes, " +
                          "for every hook of one --tokens run of --model.",
        };
        var kernels = new Option<bool>("--kernels")
        {
            Description = "Instead: the int8 matrix kernels (Q8_0 and xAI int8, each path, T = 1, 8, 128) against reading the same bytes " +
                          "and against dequantise + torch matmul, on Grok-1's and this bench's matrix shapes.",
        };
        var threads = new Option<int>("--threads") { Description = "With --kernels: torch threads (0: torch's default)." };
        var model = CommonOptions.Model(required: false);
        model.Description = "With --dumps: the model whose run is dumped. With --kernels: a Q8_0 .gguf or xAI ckpt-0 folder whose " +
                            "decode-step and 8-token-prefill matrix products are timed against reading the same bytes.";
        model.DefaultValueFactory = _ => "models/grok-tiny";
        var shardSize = CommonOptions.ShardSize();
        shardSize.DefaultValueFactory = _ => "4MiB";
        var weights = new Option<string>("--weights")
        {
            Description = "Instead: --model (a Q8_0 .gguf or xAI's raw release) loaded with these weights (int8: mapped, int8 kernels): " +
                          "prefill of --tokens, decode per token of --generate, peak memory and the memory-bandwidth bound.",
        };
        var json = new Option<bool>("--json") { Description = "With --weights: print one JSON object instead of the table." };
        var cluster = new Option<bool>("--cluster") { Description = "Instead: grok-tiny on two silo processes against in-process (captures, generation)." };
        var grok1Gguf = new Option<string>("--grok1-gguf") { Description = "With --cluster: also the two-layer Grok-1 Q8_0 GGUF, one layer per silo process." };
        var command = new Command("bench", "Measure the overhead of captures and hook functions on a small random model.")
        {
            tokens, repeats, generate, streaming, grok1Layers, keep, dumps, kernels, threads, model, shardSize, cluster, grok1Gguf, weights, json,
        };
        command.SetAction(parse => parse.GetValue(weights) is { } weightKind
            ? ModelBench.Run(io, parse.GetValue(model)!, weightKind, parse.GetValue(tokens), parse.GetValue(generate), parse.GetValue(repeats), parse.GetValue(json))
            : parse.GetValue(cluster)
            ? ClusterBench.Run(io, parse.GetValue(tokens), parse.GetValue(repeats), parse.GetValue(generate), parse.GetValue(grok1Gguf))
            : parse.GetValue(kernels)
            ? parse.GetResult(model) is { Implicit: false }
                ? DecodeStepBench.Run(io, parse.GetValue(model)!, parse.GetValue(repeats))
                : KernelBench.Run(io, parse.GetValue(repeats), parse.GetValue(threads))
            : parse.GetValue(grok1Layers) is { } folder
            ? Grok1LayersBench.Run(io, folder, parse.GetResult(tokens) is { Implicit: false } ? parse.GetValue(tokens) : 8, parse.GetValue(keep))
            : parse.GetValue(dumps)
                ? DumpBench.Run(io, parse.GetValue(model)!, parse.GetValue(tokens), parse.GetValue(repeats),
                    ByteSize.Parse(parse.GetValue(shardSize)!, "--shard-size"))
            : parse.GetValue(streaming)
                ? StreamingBench.Run(io, parse.GetValue(tokens), parse.GetValue(repeats))
                : Run(io, parse.GetValue(tokens), parse.GetValue(repeats), parse.GetValue(generate)));
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
        io.Out.WriteLine($"{tokenCount} tokens, median of {repeats} interleaved rounds after {WarmUpRounds} warm-up rounds, torch threads: {get_num_threads()}, OpenMP spin (GOMP_SPINCOUNT): {Kernels.OpenMpSpin.Current() ?? "libgomp's default"}, device: cpu");
        io.Out.WriteLine();

        HookFunction scale = (activation, _) => activation * 1.0;
        var cases = new List<(string Name, string Note, Action Action)>
        {
            ("forward pass, no hooks", "", () => Forward(model, prompt, new RunOptions())),
            ($"capture {OneHook}", "1 hook", () => Forward(model, prompt, RunOptions.CaptureOnly(OneHook))),
            ("capture '*'", $"{allHooks} hooks", () => Forward(model, prompt, RunOptions.CaptureOnly("*"))),
            ($"hook function on {ReplacedHook} (×1.0)", "replaces the activation",
                () => Forward(model, prompt, new RunOptions { Hooks = [(ReplacedHook, scale)] })),
            ("intervention: zero-ablate head 0 of layer 1", "AblateHeads via InterventionRunner", () => Intervene(model, prompt, new AblateHeads([1], [0]))),
            ("intervention: ban expert 0 of layer 1", "BanExpert: re-ranks the router", () => Intervene(model, prompt, new BanExpert(1, 0))),
        };
        var decodeRates = new List<double>();
        var prefillTimes = new List<double>(); // prompt to first token: llama-bench's pp (it too computes only the last logits)
        if (generateCount > 0)
        {
            var sampling = SamplingOptions.Greedy(generateCount) with { StopAtEos = false };
            cases.Add(($"greedy generation, {generateCount} tokens (KV cache)", "", () =>
            {
                var clock = Stopwatch.StartNew();
                double first = 0;
                int count = 0;
                foreach (var _ in TextGenerator.Generate(model, prompt, sampling))
                    if (count++ == 0) first = clock.Elapsed.TotalSeconds;
                if (count > 1) decodeRates.Add((count - 1) / (clock.Elapsed.TotalSeconds - first));
                prefillTimes.Add(first * 1000);
            }));
        }

        // Warm every case up (several rounds: .NET's tiered JIT recompiles hot methods on a background thread, which
        // on a small machine competes with torch's threads), then interleave the timed repeats so drifting machine
        // load touches all cases alike.
        for (int round = 0; round < WarmUpRounds; round++)
            foreach (var benchCase in cases) benchCase.Action();
        Thread.Sleep(200);
        decodeRates.Clear();
        prefillTimes.Clear();
        var times = cases.Select(_ => new List<double>(repeats)).ToList();
        for (int repeat = 0; repeat < repeats; repeat++)
            for (int i = 0; i < cases.Count; i++)
            {
                var clock = Stopwatch.StartNew();
                cases[i].Action();
                times[i].Add(clock.Elapsed.TotalMilliseconds);
            }

        var rows = cases.Select((c, i) => (Case: c.Name, Ms: MedianOf(times[i]), Min: times[i].Min(), Max: times[i].Max(), c.Note)).ToList();
        double plain = rows[0].Ms;
        if (generateCount > 0)
        {
            double totalRate = generateCount / (rows[^1].Ms / 1000);
            string decode = decodeRates.Count > 0 ? $", {Format.Number(MedianOf(decodeRates), "0.0")} after the first" : "";
            rows[^1] = rows[^1] with
            {
                Note = $"{Format.Number(totalRate, "0.0")} tokens/s incl. the {tokenCount}-token prompt{decode}; " +
                       $"first token after {Format.Number(MedianOf(prefillTimes), "0.0")} ms",
            };
        }

        int width = Math.Max(4, rows.Max(r => r.Case.Length));
        io.Out.WriteLine($"{"case".PadRight(width)}  {"median ms",10}  {"× plain",8}  {"min–max ms",15}  note");
        io.Out.WriteLine(new string('-', width + 2 + 10 + 2 + 8 + 2 + 15 + 2 + 4));
        foreach (var (name, ms, min, max, note) in rows)
            io.Out.WriteLine($"{name.PadRight(width)}  {Format.Number(ms, "0.00"),10}  {Format.Number(ms / plain, "0.00"),8}  " +
                             $"{Format.Number(min, "0.0") + "–" + Format.Number(max, "0.0"),15}  {note}");
        if (generateCount > 0) PrefillBackToBack(io, model, prompt, repeats);
        return CliApp.Ok;
    }

    /// <summary>
    /// The prompt to its first generated token, run back to back as llama-bench runs its pp cases (the table's first-token
    /// time above is taken between the other cases, which leave less of the weights in the caches).
    /// </summary>
    private static void PrefillBackToBack(CliIO io, LoadedModel model, int[] prompt, int repeats)
    {
        var sampling = SamplingOptions.Greedy(1) with { StopAtEos = false };
        var times = new List<double>();
        for (int run = -WarmUpRounds; run < repeats; run++)
        {
            var clock = Stopwatch.StartNew();
            foreach (var _ in TextGenerator.Generate(model, prompt, sampling)) { }
            if (run >= 0) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        io.Out.WriteLine();
        io.Out.WriteLine($"prefill, back to back (llama-bench's pp): the {prompt.Length}-token prompt to its first token, median of {repeats} runs: " +
                         $"{Format.Number(MedianOf(times), "0.00")} ms ({Format.Number(times.Min(), "0.0")}–{Format.Number(times.Max(), "0.0")})");
    }

    private static void Forward(LoadedModel model, int[] prompt, RunOptions options)
    {
        using var result = model.Run(prompt, options);
    }

    private static void Intervene(LoadedModel model, int[] prompt, Intervention intervention)
    {
        using var result = InterventionRunner.Run(model, prompt, [intervention]);
    }

    internal static double MedianOf(List<double> values)
    {
        var sorted = values.Order().ToList();
        int middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
