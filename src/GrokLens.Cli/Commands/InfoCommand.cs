using System.CommandLine;
using System.Globalization;
using System.Reflection;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Loading;
using GrokLens.Model;
using GrokLens.Tokenization;

namespace GrokLens.Cli.Commands;

/// <summary><c>groklens info</c>: what a model is (config, sizes, tokenizer), from a folder or a built-in preset.</summary>
public static class InfoCommand
{
    public const string Grok1Preset = "grok-1";
    public const string Grok2Preset = "grok-2";

    /// <summary>The built-in architectures: xAI's published sizes (SPEC §1, §6.2).</summary>
    public static GrokConfig PresetConfig(string preset) => preset switch
    {
        Grok1Preset => GrokConfig.Grok1,
        Grok2Preset => GrokConfig.Grok2,
        _ => throw new UsageException($"unknown preset '{preset}': use {Grok1Preset} or {Grok2Preset}."),
    };

    public static Command Create(CliIO io)
    {
        var model = CommonOptions.Model(required: false);
        var preset = Preset();
        var device = CommonOptions.Device();
        var weights = CommonOptions.Weights();
        var command = new Command("info", "Show a model's config, parameter counts, memory, hook points and tokenizer.")
        {
            model, preset, device, weights,
        };
        command.SetAction(parse =>
        {
            using var loaded = OpenModelOrPreset(parse.GetValue(model), parse.GetValue(preset), parse.GetValue(device)!, parse.GetValue(weights)!);
            Print(io.Out, loaded);
            return CliApp.Ok;
        });
        return command;
    }

    public static Option<string> Preset() => new Option<string>("--preset")
    {
        Description = "A built-in architecture, built on the meta device (shapes only, nothing loaded).",
    }.AcceptOnlyFromAmong(Grok1Preset, Grok2Preset);

    /// <summary>Loads --model, or builds --preset with meta weights; exactly one must be given.</summary>
    public static LoadedModel OpenModelOrPreset(string? modelPath, string? preset, string device, string weights = "resident")
    {
        if (modelPath is not null && preset is not null) throw new UsageException("give either --model or --preset, not both.");
        if (modelPath is null && preset is null) throw new UsageException("give a model folder with --model DIR or --preset grok-1 (or grok-2).");
        if (modelPath is not null) return CommonOptions.Load(modelPath, device, weights);
        // Grok-2 has its own tokenizer, which is not bundled (docs/grok-2.md); Grok-1's is.
        var tokenizer = preset == Grok1Preset ? DefaultTokenizer() : null;
        return new LoadedModel(preset!, new GrokModel(PresetConfig(preset!), new MetaWeightSource()), tokenizer,
            "meta", "preset on the meta device (shapes only, no weights loaded)");
    }

    private static ITokenizer? DefaultTokenizer()
    {
        try
        {
            return GrokSentencePieceTokenizer.Load(TokenizerLocator.FindDefaultModelPath());
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    public static void Print(TextWriter output, LoadedModel loaded)
    {
        var config = loaded.Config;
        long parameters = GrokModel.Inventory(config).Sum(w => w.Shape.Aggregate(1L, (a, b) => a * b));
        long bytes = loaded.Source == "meta"
            ? loaded.Model.Weights.Sum(w => w.Parameter.NumberOfElements * w.Parameter.ElementSize)
            : loaded.WeightBytesByDevice.Values.Sum();
        long active = parameters - (config.ParameterCount - config.ActiveParameterCount);

        output.WriteLine($"Model:      {loaded.Name}");
        output.WriteLine($"Arch:       {config.Architecture}");
        output.WriteLine($"Source:     {loaded.Source}");
        output.WriteLine($"Format:     {loaded.Format}");
        output.WriteLine($"Parameters: {Format.Count(parameters)} total, {Format.Count(active)} active per token " +
                         $"({config.TopK} of {config.NumExperts} experts)");
        output.WriteLine($"Weights:    {Format.Bytes(bytes)} " +
                         $"({loaded.Model.embedding.dtype}{(loaded.Source == "meta" ? ", not allocated" : "")})");
        output.WriteLine($"Checkpoint: {loaded.CheckpointFormat}");
        output.WriteLine($"Quantised:  {loaded.Quantisation}");
        output.WriteLine($"Residency:  {loaded.Residency}");
        output.WriteLine($"Device map: {loaded.DeviceMap}");
        output.WriteLine($"Memory:     " + (loaded.WeightBytesByDevice.Count == 0 ? "none held (meta)"
            : string.Join(", ", loaded.WeightBytesByDevice.Select(d => $"{d.Key} {Format.Bytes(d.Value)}"))));
        output.WriteLine($"Hooks:      {Format.Count(HookPoints.All(config).Count)} hook points");
        output.WriteLine($"Tokenizer:  {(loaded.Tokenizer is { } tokenizer ? $"vocab {Format.Count(tokenizer.VocabSize)}" : "none: token ids only")}");
        output.WriteLine("Config:");
        var properties = typeof(GrokConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.Name is not (nameof(GrokConfig.ParameterCount) or nameof(GrokConfig.ActiveParameterCount)))
            .ToList();
        int width = properties.Max(p => p.Name.Length);
        foreach (var property in properties)
            output.WriteLine($"  {property.Name.PadRight(width)}  {Convert.ToString(property.GetValue(config), CultureInfo.InvariantCulture)}");
    }
}
