using System.CommandLine;
using System.Globalization;
using GrokLens.Checkpoints;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Interventions;
using static TorchSharp.torch;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens capture</c>: runs a prompt (optionally with interventions) and saves the chosen activations as a dump
/// folder (docs/dump-format.md), a zipped dump (a path ending in .zip), or a single safetensors file (a path ending in
/// .safetensors: one tensor per hook, prompt and token ids in its metadata).
/// </summary>
public static class CaptureCommand
{
    public static Command Create(CliIO io)
    {
        var model = CommonOptions.Model();
        var prompt = CommonOptions.Prompt();
        var tokenIds = CommonOptions.TokenIds();
        var hooks = new Option<string>("--hooks")
        {
            Description = "Comma-separated hook names or glob patterns, e.g. 'blocks.*.hook_resid_post,logits'; '*' for all.",
            Required = true,
        };
        var output = new Option<string>("--out", "-o")
        {
            Description = "Output: a dump folder, a .zip dump, or a single .safetensors file (one tensor per hook).",
            Required = true,
        };
        var interventions = CommonOptions.Interventions();
        var shardSize = CommonOptions.ShardSize();
        var device = CommonOptions.Device();
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the output if it exists." };
        var cluster = CommonOptions.Cluster();

        var command = new Command("capture", "Run a prompt and save hook activations as a dump (folder, .zip) or a safetensors file.")
        {
            model, prompt, tokenIds, hooks, output, interventions, shardSize, device, overwrite, cluster,
        };
        command.SetAction(parse => Run(io,
            parse.GetValue(model)!, parse.GetValue(prompt), parse.GetValue(tokenIds), parse.GetValue(hooks)!,
            parse.GetValue(output)!, parse.GetValue(interventions), ByteSize.Parse(parse.GetValue(shardSize)!, "--shard-size"),
            parse.GetValue(device)!, parse.GetValue(overwrite), parse.GetValue(cluster)));
        return command;
    }

    private static int Run(CliIO io, string modelPath, string? prompt, string? tokenIds, string hookList,
        string outputPath, string? interventionsPath, long shardBytes, string device, bool overwrite, string? cluster)
    {
        CommonOptions.RequireOnePrompt(prompt, tokenIds);
        var patterns = SplitPatterns(hookList);
        if (patterns.Count == 0) throw new UsageException("--hooks is empty: give hook names or patterns, or '*' for all.");
        outputPath = Path.GetFullPath(outputPath);
        var form = OutputForm(outputPath);
        if (form != Form.Folder && Directory.Exists(outputPath)) throw new CliException($"--out {outputPath} is a folder; give a file name.");
        if ((File.Exists(outputPath) || Directory.Exists(outputPath)) && !overwrite)
            throw new CliException($"{outputPath} already exists; pass --overwrite to replace it.");
        var interventions = CommonOptions.LoadInterventions(interventionsPath);

        using var handle = EngineHandle.Open(modelPath, cluster, device);
        var loaded = handle.Engine;
        var names = loaded.ResolveHooks(patterns); // Unknown patterns fail here, before any work.
        var ids = CommonOptions.PromptTokens(loaded, prompt, tokenIds);

        using var run = InterventionRunner.Run(loaded, ids, interventions, new RunOptions { Capture = names });
        var content = DumpWriter.FromRun(loaded, run, "run0", prompt, interventions);
        var options = new DumpWriteOptions { ShardBytes = shardBytes, Overwrite = overwrite };
        switch (form)
        {
            case Form.SafetensorsFile:
                WriteSingleFile(outputPath, loaded, content, overwrite);
                break;
            case Form.Zip:
                DumpWriter.WriteZipFile(outputPath, loaded, [content], options);
                break;
            default:
                DumpWriter.WriteFolder(outputPath, loaded, [content], options);
                break;
        }

        long bytes = File.Exists(outputPath) ? new FileInfo(outputPath).Length
            : Directory.EnumerateFiles(outputPath).Sum(f => new FileInfo(f).Length);
        int count = content.Hooks.Count;
        io.Out.WriteLine($"Captured {ids.Count} token{(ids.Count == 1 ? "" : "s")} through model '{loaded.Name}'" +
                         (interventions.Count > 0 ? $" with {interventions.Count} intervention{(interventions.Count == 1 ? "" : "s")}." : "."));
        io.Out.WriteLine($"Wrote {count} hook{(count == 1 ? "" : "s")} ({Format.Bytes(bytes)}) to {outputPath}");
        return CliApp.Ok;
    }

    private enum Form { Folder, Zip, SafetensorsFile }

    private static Form OutputForm(string path) =>
        path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? Form.SafetensorsFile
        : path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? Form.Zip
        : Form.Folder;

    /// <summary>The plain form: one tensor per hook (float32, expert indices int32), run details in the metadata.</summary>
    private static void WriteSingleFile(string path, IModelEngine loaded, DumpRunContent content, bool overwrite)
    {
        var tensors = new List<(string Name, Tensor Tensor)>();
        try
        {
            foreach (var (name, tensor) in content.Hooks)
            {
                var type = name.EndsWith(HookPoints.TopKIndices, StringComparison.Ordinal) ? ScalarType.Int32 : ScalarType.Float32;
                tensors.Add((name, tensor.to(type, copy: true)));
            }
            var metadata = new Dictionary<string, string>
            {
                ["token_ids"] = string.Join(",", content.TokenIds.Select(id => id.ToString(CultureInfo.InvariantCulture))),
                ["model"] = loaded.Name,
                ["hooks"] = tensors.Count.ToString(CultureInfo.InvariantCulture),
                ["groklens_version"] = GrokLensInfo.Version,
            };
            if (content.Prompt is not null) metadata["prompt"] = content.Prompt;
            if (content.Interventions.Count > 0) metadata["interventions"] = InterventionJson.Serialize(content.Interventions);
            SafetensorsWriter.Write(path, tensors, metadata, overwrite);
        }
        finally
        {
            foreach (var (_, tensor) in tensors) tensor.Dispose();
        }
    }

    /// <summary>Splits on commas outside braces, so 'blocks.{0,1}.hook_resid_post,logits' stays two patterns.</summary>
    internal static IReadOnlyList<string> SplitPatterns(string list) => HookPatterns.Split(list);
}
