using System.CommandLine;
using System.Globalization;
using GrokLens.Checkpoints;
using GrokLens.Engine;
using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Cli.Commands;

/// <summary><c>groklens capture</c>: runs a prompt and saves the chosen activations to a safetensors file.</summary>
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
            Description = "Output .safetensors file: one tensor per hook, named by hook.",
            Required = true,
        };
        var device = CommonOptions.Device();
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the output file if it exists." };

        var command = new Command("capture", "Run a prompt and save hook activations to a safetensors file.")
        {
            model, prompt, tokenIds, hooks, output, device, overwrite,
        };
        command.SetAction(parse => Run(io,
            parse.GetValue(model)!, parse.GetValue(prompt), parse.GetValue(tokenIds), parse.GetValue(hooks)!,
            parse.GetValue(output)!, parse.GetValue(device)!, parse.GetValue(overwrite)));
        return command;
    }

    private static int Run(CliIO io, string modelPath, string? prompt, string? tokenIds, string hookList,
        string outputPath, string device, bool overwrite)
    {
        CommonOptions.RequireOnePrompt(prompt, tokenIds);
        var patterns = SplitPatterns(hookList);
        if (patterns.Count == 0) throw new UsageException("--hooks is empty: give hook names or patterns, or '*' for all.");
        outputPath = Path.GetFullPath(outputPath);
        if (Directory.Exists(outputPath)) throw new CliException($"--out {outputPath} is a folder; give a file name.");
        if (File.Exists(outputPath) && !overwrite)
            throw new CliException($"{outputPath} already exists; pass --overwrite to replace it.");

        using var loaded = CommonOptions.Load(modelPath, device);
        var names = loaded.ResolveHooks(patterns); // Unknown patterns fail here, before any work.
        var ids = CommonOptions.PromptTokens(loaded, prompt, tokenIds);

        using var run = loaded.Run(ids, new RunOptions { Capture = names });
        var tensors = new List<(string Name, Tensor Tensor)>();
        var converted = new List<Tensor>();
        try
        {
            foreach (var name in run.Cache.Names)
            {
                var tensor = run.Cache[name];
                var type = name.EndsWith(HookPoints.TopKIndices, StringComparison.Ordinal) ? ScalarType.Int32 : ScalarType.Float32;
                var written = tensor.dtype == type ? tensor : tensor.to(type);
                if (!ReferenceEquals(written, tensor)) converted.Add(written);
                tensors.Add((name, written));
            }
            var metadata = new Dictionary<string, string>
            {
                ["token_ids"] = string.Join(",", ids.Select(id => id.ToString(CultureInfo.InvariantCulture))),
                ["model"] = loaded.Name,
                ["hooks"] = tensors.Count.ToString(CultureInfo.InvariantCulture),
                ["groklens_version"] = GrokLensInfo.Version,
            };
            if (prompt is not null) metadata["prompt"] = prompt;
            SafetensorsWriter.Write(outputPath, tensors, metadata, overwrite);
        }
        finally
        {
            foreach (var tensor in converted) tensor.Dispose();
        }

        long bytes = new FileInfo(outputPath).Length;
        io.Out.WriteLine($"Captured {ids.Count} token{(ids.Count == 1 ? "" : "s")} through model '{loaded.Name}'.");
        io.Out.WriteLine($"Wrote {tensors.Count} hook{(tensors.Count == 1 ? "" : "s")} ({Format.Bytes(bytes)}) to {outputPath}");
        return CliApp.Ok;
    }

    /// <summary>Splits on commas outside braces, so 'blocks.{0,1}.hook_resid_post,logits' stays two patterns.</summary>
    internal static IReadOnlyList<string> SplitPatterns(string list)
    {
        var patterns = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i <= list.Length; i++)
        {
            if (i == list.Length || (list[i] == ',' && depth == 0))
            {
                var part = list[start..i].Trim();
                if (part.Length > 0) patterns.Add(part);
                start = i + 1;
            }
            else if (list[i] == '{') depth++;
            else if (list[i] == '}' && depth > 0) depth--;
        }
        return patterns;
    }
}
