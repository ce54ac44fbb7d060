using System.CommandLine;
using GrokLens.Dumps;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens batch</c>: runs every prompt of a JSONL file into one sharded dump folder, with a progress line on
/// stderr; rerunning on the same folder resumes where an interruption (Ctrl-C, kill) left it.
/// </summary>
public static class BatchCommand
{
    public static Command Create(CliIO io)
    {
        var model = CommonOptions.Model();
        var prompts = new Option<string>("--prompts")
        {
            Description = "JSONL file: one {\"prompt\": \"...\"} or {\"token_ids\": [...]} per line, optional \"id\" (default line{N}).",
            Required = true,
        };
        var hooks = new Option<string>("--hooks")
        {
            Description = "Hooks to store (raw), or with --reduce to reduce per neuron; names or glob patterns, comma-separated.",
            DefaultValueFactory = _ => "",
        };
        var output = new Option<string>("--out", "-o") { Description = "Dump folder (created, or resumed if it holds an unfinished batch).", Required = true };
        var reduce = new Option<bool>("--reduce")
        {
            Description = "Store reductions instead of raw tensors: per-layer expert usage counts, routing statistics, per-neuron mean and max of --hooks.",
        };
        var interventions = CommonOptions.Interventions();
        var shardSize = CommonOptions.ShardSize();
        var device = CommonOptions.Device();
        var overwrite = new Option<bool>("--overwrite") { Description = "Start over: discard an existing dump in --out instead of resuming it." };
        var cluster = CommonOptions.Cluster();

        var command = new Command("batch", "Run a JSONL file of prompts into a sharded dump (resumable), raw or reduced.")
        {
            model, prompts, hooks, output, reduce, interventions, shardSize, device, overwrite, cluster,
        };
        command.SetAction(parse => Run(io, parse.GetValue(model)!, parse.GetValue(prompts)!, parse.GetValue(hooks)!, parse.GetValue(output)!,
            parse.GetValue(reduce), parse.GetValue(interventions), ByteSize.Parse(parse.GetValue(shardSize)!, "--shard-size"),
            parse.GetValue(device)!, parse.GetValue(overwrite), parse.GetValue(cluster)));
        return command;
    }

    private static int Run(CliIO io, string modelPath, string promptsPath, string hookList, string output, bool reduce,
        string? interventionsPath, long shardBytes, string device, bool overwrite, string? cluster)
    {
        var patterns = CaptureCommand.SplitPatterns(hookList);
        if (patterns.Count == 0 && !reduce) throw new UsageException("--hooks is empty: give hook names or patterns to store ('*' for all).");
        var prompts = BatchPrompts.ReadJsonl(promptsPath);
        var options = new BatchOptions
        {
            Hooks = patterns,
            Interventions = CommonOptions.LoadInterventions(interventionsPath),
            Reduce = reduce,
            ShardBytes = shardBytes,
            Overwrite = overwrite,
        };

        using var handle = EngineHandle.Open(modelPath, cluster, device);
        var loaded = handle.Engine;
        using var cancellation = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // Finish the current prompt, commit, and exit; the rerun resumes.
            cancellation.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        var bar = new ProgressLine<BatchProgress>(io.Error, Render, p => p.Done >= p.Total);
        try
        {
            var manifest = BatchCapture.Run(loaded, prompts, output, options, bar, cancellation.Token);
            bar.End();
            long bytes = manifest.Files.Sum(f => f.Bytes);
            io.Out.WriteLine($"{manifest.Runs.Count} prompts in {Path.GetFullPath(output)} ({manifest.Files.Count} data files, {Format.Bytes(bytes)}, {manifest.Kind}).");
            return CliApp.Ok;
        }
        catch (OperationCanceledException)
        {
            bar.End();
            io.Error.WriteLine($"interrupted: finished prompts are saved in {Path.GetFullPath(output)}; run the same command again to resume.");
            return CliApp.Interrupted;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>"[#####-----] 12/100 prompts · 345 tokens/s · ETA 0:01:23".</summary>
    internal static string Render(BatchProgress p)
    {
        double seconds = p.Elapsed.TotalSeconds;
        string rate = seconds > 0 ? $"{Format.Number(p.Tokens / seconds, "0.0")} tokens/s" : "– tokens/s";
        // The pace counts only prompts run in this session, not those found finished on resume.
        string eta = p.Done >= p.Total ? "done" : ProgressLine<BatchProgress>.Eta(p.Elapsed, p.Done - p.Resumed, p.Total - p.Resumed);
        string resumed = p.Resumed > 0 ? $" ({p.Resumed} resumed)" : "";
        return $"{ProgressLine<BatchProgress>.Bar(p.Done, p.Total)} {p.Done}/{p.Total} prompts{resumed} · {rate} · ETA {eta}  ";
    }
}
