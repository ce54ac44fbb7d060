using System.CommandLine;
using GrokLens.Hooks;
using GrokLens.Loading;
using GrokLens.Model;

namespace GrokLens.Cli.Commands;

/// <summary><c>groklens hooks</c>: lists hook points with their shapes and meanings (reads only config.json).</summary>
public static class HooksCommand
{
    public static Command Create(CliIO io)
    {
        var model = CommonOptions.Model(required: false);
        var preset = InfoCommand.Preset();
        var pattern = new Option<string>("--pattern")
        {
            Description = "Only hooks matching this glob, e.g. 'blocks.0.*' or '*.moe.*'.",
        };
        var command = new Command("hooks", "List the hook points of a model with shape and meaning.") { model, preset, pattern };
        command.SetAction(parse =>
        {
            var config = ReadConfig(parse.GetValue(model), parse.GetValue(preset));
            var hooks = HookPoints.All(config);
            var glob = parse.GetValue(pattern);
            if (glob is not null)
            {
                var selected = HookPatterns.Resolve(CaptureCommand.SplitPatterns(glob), hooks.Select(h => h.Name).ToList()).ToHashSet();
                hooks = hooks.Where(h => selected.Contains(h.Name)).ToList();
            }
            int nameWidth = hooks.Max(h => h.Name.Length), shapeWidth = hooks.Max(h => h.Shape.Length);
            foreach (var hook in hooks)
                io.Out.WriteLine($"{hook.Name.PadRight(nameWidth)}  {hook.Shape.PadRight(shapeWidth)}  {hook.Meaning}");
            io.Out.WriteLine();
            io.Out.WriteLine($"{hooks.Count} hook point{(hooks.Count == 1 ? "" : "s")}. Shapes are per sequence: T positions, Tk key " +
                             $"positions, D={config.HiddenSize}, H={config.NumHeads}, Hkv={config.NumKvHeads}, d={config.HeadDim}, " +
                             $"E={config.NumExperts}, k={config.TopK}, F={config.ExpertSize}, " +
                             (config.ResidualMoe ? $"Fd={config.DenseSize}, " : "") + $"V={config.VocabSize}.");
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>The config of --model (config.json only, no weights) or of --preset.</summary>
    private static GrokConfig ReadConfig(string? modelPath, string? preset)
    {
        if (modelPath is not null && preset is not null) throw new UsageException("give either --model or --preset, not both.");
        if (modelPath is null && preset is null) throw new UsageException("give a model folder with --model DIR or --preset grok-1 (or grok-2).");
        if (preset is not null) return InfoCommand.PresetConfig(preset);
        var folder = Directory.Exists(modelPath) ? modelPath
            : File.Exists(modelPath) ? Path.GetDirectoryName(Path.GetFullPath(modelPath!))!
            : throw new DirectoryNotFoundException($"Model not found: '{modelPath}' is neither a folder nor a file.");
        return GrokConfig.FromJsonFile(Path.Combine(folder!, ModelLoader.ConfigFileName));
    }
}
