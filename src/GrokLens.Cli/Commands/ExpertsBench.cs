using System.CommandLine;
using System.Diagnostics;
using GrokLens.Analysis.Experts;
using GrokLens.Engine;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens experts bench</c>: what each reduction of an expert analysis costs per prompt, as ratios to a plain forward
/// pass of the same prompt in the same process (interleaved rounds after warm-up; medians).
/// </summary>
internal static class ExpertsBench
{
    public static Command Create(CliIO io)
    {
        var model = CommonOptions.Model(required: false);
        model.DefaultValueFactory = _ => "models/grok-tiny";
        var tokens = new Option<int>("--tokens") { Description = "Prompt length (random token ids).", DefaultValueFactory = _ => 128 };
        var repeats = new Option<int>("--repeats") { Description = "Timed rounds (after warm-up); the median is shown.", DefaultValueFactory = _ => 7 };
        var device = CommonOptions.Device();
        var command = new Command("bench", "Cost of each expert-analysis reduction per prompt, against a plain forward pass.") { model, tokens, repeats, device };
        command.SetAction(parse => Run(io, parse.GetValue(model)!, parse.GetValue(device)!, parse.GetValue(tokens), parse.GetValue(repeats)));
        return command;
    }

    private static int Run(CliIO io, string modelPath, string device, int tokenCount, int repeats)
    {
        if (repeats < 1) throw new UsageException("--repeats must be at least 1.");
        using var model = CommonOptions.Load(modelPath, device);
        if (tokenCount < 1 || tokenCount > model.Config.MaxPositions) throw new UsageException($"--tokens must be 1…{model.Config.MaxPositions}.");
        var random = new Random(42);
        var prompt = Enumerable.Range(0, tokenCount).Select(_ => random.Next(3, model.Config.VocabSize)).ToArray();
        var corpus = new ExpertCorpus([new PromptSubset("bench", [prompt])]);
        var cases = new List<(string Name, Action Action)>
        {
            ("forward pass, no capture", () => { using var run = model.Run(prompt); }),
            ("routing counts + loss (load, co-activation, steering)", () => ExpertPass.Run(model, corpus, new ExpertPassOptions())),
            ("+ token × expert counts (vocabulary)", () => ExpertPass.Run(model, corpus, new ExpertPassOptions { Vocabulary = true })),
            ("+ expert output norms (audit)", () => ExpertPass.Run(model, corpus, new ExpertPassOptions { OutputNorms = true })),
            ("+ top-expert cosines (top-expert)", () => ExpertPass.Run(model, corpus, new ExpertPassOptions { TopExpertCosines = true })),
            ("loss with one expert banned (audit, per expert)", () => CausalAudit.Run(model, corpus, new CausalAuditOptions { Layers = [0], Experts = [0] })),
            ("per-expert lens of the prompt, all layers, top 5", () => ExpertLens.ForPrompt(model, prompt)),
        };
        for (int round = 0; round < BenchCommand.WarmUpRounds; round++)
            foreach (var (_, action) in cases) action();
        var times = cases.Select(_ => new List<double>()).ToList();
        for (int repeat = 0; repeat < repeats; repeat++)
            for (int i = 0; i < cases.Count; i++)
            {
                var clock = Stopwatch.StartNew();
                cases[i].Action();
                times[i].Add(clock.Elapsed.TotalMilliseconds);
            }
        io.Out.WriteLine($"model {model.Name}: {model.Config.NumLayers} layers × {model.Config.NumExperts} experts, vocabulary {Format.Count(model.Config.VocabSize)}; " +
                         $"{tokenCount} tokens, median of {repeats} interleaved rounds after {BenchCommand.WarmUpRounds} warm-up rounds");
        int width = cases.Max(c => c.Name.Length);
        double plain = BenchCommand.MedianOf(times[0]);
        io.Out.WriteLine($"{"case".PadRight(width)}  {"median ms",10}  {"× plain",8}  {"min–max ms",15}");
        io.Out.WriteLine(new string('-', width + 39));
        for (int i = 0; i < cases.Count; i++)
        {
            double median = BenchCommand.MedianOf(times[i]);
            io.Out.WriteLine($"{cases[i].Name.PadRight(width)}  {Format.Number(median, "0.00"),10}  {Format.Number(median / plain, "0.00"),8}  " +
                             $"{Format.Number(times[i].Min(), "0.0") + "–" + Format.Number(times[i].Max(), "0.0"),15}");
        }
        io.Out.WriteLine("(the audit case includes its routing pass: subtract that row for one ban's cost)");
        return CliApp.Ok;
    }
}
