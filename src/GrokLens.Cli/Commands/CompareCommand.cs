using System.CommandLine;
using System.Text.Json;
using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Interventions;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens compare</c>: a baseline run (A: the prompt, no interventions) against a modified run (B: --prompt-b or the
/// same prompt, with --interventions applied), printed as JSON (docs/analysis.md). Patching interventions take their
/// source activations from run A, so <c>--prompt clean --prompt-b corrupted --interventions patch.json</c> patches
/// clean activations into the corrupted run.
/// </summary>
public static class CompareCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static Command Create(CliIO io)
    {
        var model = CommonOptions.Model();
        var prompt = CommonOptions.Prompt();
        var tokenIds = CommonOptions.TokenIds();
        var promptB = new Option<string>("--prompt-b") { Description = "Prompt text of run B (default: the same prompt as A)." };
        var tokenIdsB = new Option<string>("--token-ids-b") { Description = "Run B's prompt as comma-separated token ids." };
        var interventions = new Option<string>("--interventions") { Description = "JSON file of interventions applied to run B (docs/interventions.md)." };
        var target = new Option<string>("--target") { Description = "Target token (id, or text that is one token): its logit and probability are compared." };
        var targetB = new Option<string>("--target-b") { Description = "Second target: the logit difference target − target-b is compared (IOI-style)." };
        var top = new Option<int>("--top") { Description = "Top tokens listed per run.", DefaultValueFactory = _ => 10 };
        var nearTie = new Option<double>("--near-tie") { Description = "Router probability gap that counts as a near-tie.", DefaultValueFactory = _ => ComparisonOptions.DefaultNearTieThreshold };
        var generate = new Option<int>("--generate", "-n") { Description = "Tokens to generate from both runs with the same seed (0: none).", DefaultValueFactory = _ => 0 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature for --generate; 0 is greedy.", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "Sampling seed for --generate.", DefaultValueFactory = _ => 0 };
        var device = CommonOptions.Device();
        var cluster = CommonOptions.Cluster();
        var command = new Command("compare", "Compare a baseline run with a modified one (interventions or a second prompt) and print JSON.")
        {
            model, prompt, tokenIds, promptB, tokenIdsB, interventions, target, targetB, top, nearTie, generate, temperature, seed, device, cluster,
        };
        command.SetAction(parse => Run(io, parse.GetValue(model)!, parse.GetValue(prompt), parse.GetValue(tokenIds),
            parse.GetValue(promptB), parse.GetValue(tokenIdsB), parse.GetValue(interventions), parse.GetValue(target),
            parse.GetValue(targetB), new ComparisonOptions
            {
                TopTokens = parse.GetValue(top),
                NearTieThreshold = parse.GetValue(nearTie),
                GenerateTokens = parse.GetValue(generate),
                Sampling = new SamplingOptions { Temperature = parse.GetValue(temperature), Seed = parse.GetValue(seed), StopAtEos = false },
            }, parse.GetValue(device)!, parse.GetValue(cluster)));
        return command;
    }

    private static int Run(CliIO io, string modelPath, string? prompt, string? tokenIds, string? promptB, string? tokenIdsB,
        string? interventionsPath, string? target, string? targetB, ComparisonOptions options, string device, string? cluster)
    {
        CommonOptions.RequireOnePrompt(prompt, tokenIds);
        if (promptB is not null && tokenIdsB is not null) throw new UsageException("give either --prompt-b or --token-ids-b, not both.");
        bool hasB = promptB is not null || tokenIdsB is not null;
        if (!hasB && interventionsPath is null)
            throw new UsageException("nothing to compare: give --interventions FILE.json and/or a second prompt (--prompt-b / --token-ids-b).");
        if (targetB is not null && target is null) throw new UsageException("--target-b needs --target (the logit difference is target − target-b).");
        if (options.TopTokens < 1) throw new UsageException("--top must be at least 1.");
        if (options.GenerateTokens < 0) throw new UsageException("--generate must be 0 or more.");
        if (options.NearTieThreshold < 0) throw new UsageException("--near-tie must not be negative.");
        var interventions = interventionsPath is null ? [] : InterventionJson.Load(interventionsPath);

        using var handle = EngineHandle.Open(modelPath, cluster, device);
        var loaded = handle.Engine;
        var idsA = CommonOptions.PromptTokens(loaded, prompt, tokenIds);
        var idsB = hasB ? CommonOptions.PromptTokens(loaded, promptB, tokenIdsB) : idsA;
        options = options with { Target = TargetToken(loaded, target, "--target"), OtherTarget = TargetToken(loaded, targetB, "--target-b") };

        var sourceHooks = InterventionRunner.SourceHooks(loaded.Config, interventions);
        using var source = sourceHooks.Count == 0 ? null : loaded.Run(idsA, new RunOptions { Capture = sourceHooks });
        var result = RunComparison.Compare(loaded, new ComparedRun(idsA), new ComparedRun(idsB, interventions, source?.Cache), options);
        io.Out.WriteLine(JsonSerializer.Serialize(result, Json));
        return CliApp.Ok;
    }

    /// <summary>A token id, or text that the model's tokenizer encodes to exactly one token.</summary>
    private static int? TargetToken(IModelEngine model, string? value, string option)
    {
        if (value is null) return null;
        if (int.TryParse(value, out int id))
        {
            if (id < 0 || id >= model.Config.VocabSize)
                throw new CliException($"{option} {id} is outside the vocabulary 0…{model.Config.VocabSize - 1}.");
            return id;
        }
        if (model.Tokenizer is null) throw new CliException($"model '{model.Name}' has no tokenizer; give {option} as a token id.");
        var ids = model.Encode(value);
        if (ids.Count != 1) throw new CliException($"{option} '{value}' is {ids.Count} tokens; give text that is one token, or its id.");
        return ids[0];
    }
}
