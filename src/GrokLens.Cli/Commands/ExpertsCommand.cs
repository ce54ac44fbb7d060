using System.CommandLine;
using GrokLens.Analysis;
using GrokLens.Analysis.Experts;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens experts …</c>: the MoE expert analyses of docs/experts.md over a corpus (prompt files or books), printed as
/// JSON or CSV, with a progress line on stderr; Ctrl-C stops them (exit code 130).
/// </summary>
public static class ExpertsCommand
{
    public static Command Create(CliIO io) => new("experts", "MoE expert analyses: load by domain, co-activation, vocabulary specialisation, " +
                                                             "router saturation, per-expert logit lens, causal audit, steering (docs/experts.md).")
    {
        Load(io),
        CoActivation(io),
        Vocabulary(io),
        Saturation(io),
        ExpertsCausalCommands.Audit(io),
        ExpertsCausalCommands.TopExpert(io),
        ExpertsCausalCommands.Lens(io),
        ExpertsSteerCommand.Create(io),
        ExpertsBench.Create(io),
    };

    private static Command Load(CliIO io)
    {
        var options = new ExpertsOptions();
        var command = new Command("load", "Expert load per layer for each subset: shares of top-k assignments, uniform line, χ² and KL from uniform.");
        options.AddTo(command);
        options.AddDumpOptions(command, reopen: true);
        command.SetAction(parse =>
        {
            var tallied = options.Tally(io, parse, new ExpertPassOptions());
            var result = ExpertLoadResult.From(tallied.Tallies, tallied.Config.TopK);
            Write(io, parse, options, "load", tallied, result, result.Tables());
            return CliApp.Ok;
        });
        return command;
    }

    private static Command CoActivation(CliIO io)
    {
        var options = new ExpertsOptions();
        var subset = SubsetOption();
        var command = new Command("coactivation", "Co-activation per layer: P(b | a) and pair rate over independence, with random-router baselines.") { subset };
        options.AddTo(command);
        options.AddDumpOptions(command, reopen: true);
        command.SetAction(parse =>
        {
            var tallied = options.Tally(io, parse, new ExpertPassOptions());
            var (name, tally) = Pick(tallied.Tallies, parse.GetValue(subset));
            var result = CoActivationResult.From(name, tally.Routing, tallied.Config.TopK);
            Write(io, parse, options, "coactivation", tallied, result, result.Tables());
            return CliApp.Ok;
        });
        return command;
    }

    private static Command Vocabulary(CliIO io)
    {
        var options = new ExpertsOptions();
        var subset = SubsetOption();
        var top = new Option<int>("--top-tokens") { Description = "Tokens listed per expert.", DefaultValueFactory = _ => 10 };
        var minimum = new Option<int>("--min-occurrences") { Description = "Tokens seen fewer times are left out.", DefaultValueFactory = _ => 5 };
        var listed = new Option<int>("--listed") { Description = "Most frequent tokens listed with their specialisation per layer.", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random-router simulation.", DefaultValueFactory = _ => 0 };
        var command = new Command("vocabulary", "Vocabulary specialisation by input and predicted token, against a random-router baseline.")
        {
            subset, top, minimum, listed, seed,
        };
        options.AddTo(command);
        options.AddDumpOptions(command, reopen: true);
        command.SetAction(parse =>
        {
            var tallied = options.Tally(io, parse, new ExpertPassOptions { Vocabulary = true });
            var (name, tally) = Pick(tallied.Tallies, parse.GetValue(subset));
            var result = VocabularySpecialisationResult.From(name, tally, tallied.Tokenizer, new VocabularyOptions
            {
                TopTokens = parse.GetValue(top),
                MinOccurrences = parse.GetValue(minimum),
                ListedTokens = parse.GetValue(listed),
                Seed = parse.GetValue(seed),
            });
            Write(io, parse, options, "vocabulary", tallied, result, result.Tables());
            return CliApp.Ok;
        });
        return command;
    }

    private static Command Saturation(CliIO io)
    {
        var options = new ExpertsOptions();
        var history = new Option<string>("--history")
        {
            Description = "A routing history folder written during training (docs/training.md).",
            DefaultValueFactory = _ => "models/grok-tiny/routing-history",
        };
        var reference = new Option<int?>("--reference-step") { Description = "Compare with this recorded step instead of the last." };
        var command = new Command("saturation", "Router saturation across training: per layer, the share of top-1 and top-k choices at each " +
                                                "recorded step that match the final model's.") { history, reference };
        options.AddTo(command, corpus: false, model: false);
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(history)!;
            var result = RouterSaturationResult.From(RoutingHistory.Load(folder), parse.GetValue(reference));
            ExpertsOutput.Write(io, parse, options, "saturation", Path.GetFullPath(folder), null, result, result.Tables());
            return CliApp.Ok;
        });
        return command;
    }

    private static void Write(CliIO io, ParseResult parse, ExpertsOptions options, string analysis, TalliedCorpus tallied, object result,
        IReadOnlyList<ResultTable> tables) =>
        ExpertsOutput.Write(io, parse, options, analysis, tallied.Model, ExpertsSubsetInfo.Of(tallied.Tallies), result, tables);

    private static Option<string> SubsetOption() => new("--subset")
    {
        Description = "The subset to analyse (default: all subsets together).",
    };

    /// <summary>The named subset's tally, or all subsets' ("all").</summary>
    internal static (string Name, ExpertTally Tally) Pick(ExpertTallies tallies, string? subset) =>
        subset is null ? (tallies.Subsets.Count == 1 ? tallies.Subsets[0].Subset : "all", tallies.Total) : (subset, tallies.For(subset));
}
