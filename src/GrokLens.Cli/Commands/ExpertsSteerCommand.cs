using System.CommandLine;
using GrokLens.Analysis.Experts;
using GrokLens.Generation;
using GrokLens.Interventions;

namespace GrokLens.Cli.Commands;

/// <summary>Scores, the router biases built from them, and the generation comparison when a prompt was given.</summary>
internal sealed record SteeringRun(SteeringScoresResult Scores, IReadOnlyList<SteeringScore> Steered, IReadOnlyList<Intervention> Interventions,
    SteeringComparison? Generation);

/// <summary>
/// <c>groklens experts steer</c>: SteerMoE. Scores every expert by its activation rate in prompt set A minus set B, builds
/// router biases for the strongest (+strength where A uses the expert more, −strength where less), saves them as a JSON
/// experiment if asked, and with a prompt generates without and with them (same seed), showing the routing change.
/// </summary>
internal static class ExpertsSteerCommand
{
    public static Command Create(CliIO io)
    {
        var options = new ExpertsOptions(text: true);
        var a = new Option<string>("--a") { Description = "Subset to steer toward (default: the first)." };
        var b = new Option<string>("--b") { Description = "Subset to steer away from (default: the second)." };
        var top = new Option<int>("--top") { Description = "Experts to steer: those with the largest score in size.", DefaultValueFactory = _ => 4 };
        var strength = new Option<double>("--strength") { Description = "Router logit bias (negative: steer toward B).", DefaultValueFactory = _ => 4 };
        var save = new Option<string>("--save-interventions") { Description = "Write the router biases as a JSON experiment (docs/interventions.md)." };
        var prompt = CommonOptions.Prompt();
        var tokenIds = CommonOptions.TokenIds();
        var generate = new Option<int>("--generate", "-n") { Description = "Tokens to generate without and with steering.", DefaultValueFactory = _ => 32 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => 0.8 };
        var seed = new Option<int>("--seed") { Description = "Sampling seed, the same for both generations.", DefaultValueFactory = _ => 1 };
        var command = new Command("steer", "Steer experts (SteerMoE): contrastive scores between two prompt sets, router biases for the top experts, " +
                                           "and baseline vs steered generation with the routing change.")
        {
            a, b, top, strength, save, prompt, tokenIds, generate, temperature, seed,
        };
        options.AddTo(command);
        options.AddDumpOptions(command, reopen: false);
        command.SetAction(parse =>
        {
            options.RequireCorpus(parse);
            if (parse.GetValue(top) < 1) throw new UsageException("--top must be at least 1.");
            if (parse.GetValue(generate) < 1) throw new UsageException("--generate must be at least 1.");
            if (parse.GetValue(prompt) is not null && parse.GetValue(tokenIds) is not null)
                throw new UsageException("give either --prompt or --token-ids, not both.");
            using var handle = options.OpenEngine(parse);
            var model = handle.Engine;
            var corpus = options.LoadCorpus(parse, model);
            if (corpus.Subsets.Count < 2) throw new UsageException("steering compares two prompt sets: give two --prompts files or two --books.");
            string nameA = parse.GetValue(a) ?? corpus.Subsets[0].Name, nameB = parse.GetValue(b) ?? corpus.Subsets[1].Name;
            if (nameA == nameB) throw new UsageException("--a and --b name the same subset.");
            corpus.Subset(nameA);
            corpus.Subset(nameB);
            var tallies = ExpertsRun.WithProgress(io, (progress, cancel) => ExpertPass.Run(model, corpus, new ExpertPassOptions(), progress, cancel));
            options.SaveIfAsked(io, parse, model, corpus, tallies);
            var scores = SteeringScoresResult.From(nameA, tallies.For(nameA).Routing, nameB, tallies.For(nameB).Routing);
            var biases = scores.Steer(parse.GetValue(top), parse.GetValue(strength));
            if (biases.Count == 0) throw new CliException($"no expert's activation rate differs between '{nameA}' and '{nameB}'; nothing to steer.");
            if (parse.GetValue(save) is string path)
            {
                File.WriteAllText(path, InterventionJson.Serialize(biases));
                io.Error.WriteLine($"{biases.Count} router biases written to {Path.GetFullPath(path)}");
            }
            SteeringComparison? generation = null;
            if (parse.GetValue(prompt) is not null || parse.GetValue(tokenIds) is not null)
            {
                var ids = CommonOptions.PromptTokens(model, parse.GetValue(prompt), parse.GetValue(tokenIds));
                var sampling = new SamplingOptions
                {
                    MaxNewTokens = parse.GetValue(generate), Temperature = parse.GetValue(temperature), Seed = parse.GetValue(seed), StopAtEos = false,
                };
                generation = ExpertSteering.Compare(model, ids, biases, sampling);
            }
            var run = new SteeringRun(scores, scores.Top(parse.GetValue(top)), biases, generation);
            if (parse.GetValue(options.Format) == "text") WriteText(io.Out, run, parse.GetValue(strength));
            else ExpertsOutput.Write(io, parse, options, "steer", model, corpus, run, [.. scores.Tables(), .. generation?.Tables() ?? []]);
            return CliApp.Ok;
        });
        return command;
    }

    private static void WriteText(TextWriter output, SteeringRun run, double strength)
    {
        var scores = run.Scores;
        output.WriteLine($"steering toward '{scores.SubsetA}' ({Format.Count(scores.TokensA)} tokens) and away from '{scores.SubsetB}' " +
                         $"({Format.Count(scores.TokensB)} tokens): {run.Interventions.Count} experts, strength {Format.Number(strength)}");
        foreach (var (score, bias) in run.Steered.Zip(run.Interventions.Cast<RouterBias>()))
            output.WriteLine($"  layer {score.Layer} expert {score.Expert}: rate {Format.Number(score.RateA, "0.000")} vs {Format.Number(score.RateB, "0.000")}, " +
                             $"score {Format.Number(score.Difference, "+0.000;-0.000")} → bias {Format.Number(bias.Bias, "+0.##;-0.##")}");
        if (run.Generation is not { } g) return;
        output.WriteLine();
        output.WriteLine($"baseline (seed {g.Seed}): {g.BaselineText ?? string.Join(" ", g.BaselineTokens)}");
        output.WriteLine($"steered  (seed {g.Seed}): {g.SteeredText ?? string.Join(" ", g.SteeredTokens)}");
        output.WriteLine();
        output.WriteLine($"routing on the prompt: {Format.Number(g.ChangedChoices * 100, "0.0")}% of (token, layer) top-k sets changed");
        foreach (var e in g.Experts)
            output.WriteLine($"  layer {e.Layer} expert {e.Expert} (bias {Format.Number(e.Bias, "+0.##;-0.##")}): prompt rate " +
                             $"{Format.Number(e.PromptRateBefore, "0.000")} → {Format.Number(e.PromptRateAfter, "0.000")}, generation " +
                             $"{Format.Number(e.GenerationRateBefore, "0.000")} → {Format.Number(e.GenerationRateAfter, "0.000")}");
    }
}
