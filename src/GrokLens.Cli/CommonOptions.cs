using System.CommandLine;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Tokenization;

namespace GrokLens.Cli;

/// <summary>Options shared by several commands and the code that interprets them.</summary>
internal static class CommonOptions
{
    public static Option<string> Model(bool required = true) => new("--model", "-m")
    {
        Description = "Model: a folder (config.json + safetensors), a .safetensors or .gguf file, or xAI's raw ckpt-0 folder.",
        Required = required,
    };

    public static Option<string> Cluster() => new("--cluster")
    {
        Description = "Run on a GrokLens cluster instead of in this process: a silo gateway host:port (several comma-separated), " +
                      "or redis://host:port for Redis membership. --model then names the model as the silos declared it.",
    };

    public static Option<string> Prompt() => new("--prompt", "-p")
    {
        Description = "Prompt text (needs a model with a tokenizer).",
    };

    public static Option<string> TokenIds() => new("--token-ids", "-t")
    {
        Description = "Prompt as comma-separated token ids, e.g. 1,422,3033.",
    };

    public static Option<string> Device() => new("--device")
    {
        Description = "Torch device (cpu, cuda, cuda:N), or a device map of layers: \"0-31:cuda:0,32-63:cpu\", or \"auto\" (by free memory).",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<string> Interventions() => new("--interventions")
    {
        Description = "JSON file of interventions to apply (docs/interventions.md); recorded in the dump's manifest.",
    };

    public static Option<string> ShardSize() => new("--shard-size")
    {
        Description = "Largest tensor data per dump file, e.g. 512MiB (a bigger single tensor gets a file of its own).",
        DefaultValueFactory = _ => "1GiB",
    };

    /// <summary>Loads --interventions (none when not given); patching needs a source run, which capture and batch lack.</summary>
    public static IReadOnlyList<GrokLens.Interventions.Intervention> LoadInterventions(string? path)
    {
        if (path is null) return [];
        var list = GrokLens.Interventions.InterventionJson.Load(path);
        if (list.Any(i => i.Enabled && i is GrokLens.Interventions.PatchActivation))
            throw new CliException($"{path}: patch_activation needs a source run; capture and batch cannot apply it.");
        return list;
    }

    /// <summary>Exactly one of --prompt and --token-ids must be given; checked before the model is loaded.</summary>
    public static void RequireOnePrompt(string? prompt, string? tokenIds)
    {
        if (prompt is not null && tokenIds is not null)
            throw new UsageException("give either --prompt or --token-ids, not both.");
        if (prompt is null && tokenIds is null)
            throw new UsageException("give the prompt with --prompt TEXT or --token-ids 1,2,3.");
    }

    /// <summary>Turns --prompt or --token-ids into checked token ids for <paramref name="model"/>.</summary>
    public static IReadOnlyList<int> PromptTokens(IModelEngine model, string? prompt, string? tokenIds)
    {
        RequireOnePrompt(prompt, tokenIds);
        IReadOnlyList<int> ids;
        if (tokenIds is not null)
        {
            ids = Tokenization.TokenIds.ParseTokenIds(tokenIds, model.Config.VocabSize);
        }
        else
        {
            if (model.Tokenizer is null)
                throw new CliException($"model '{model.Name}' has no tokenizer (no tokenizer.model beside its weights); " +
                                       "use --token-ids instead of --prompt.");
            if (prompt!.Length == 0) throw new ArgumentException("The prompt is empty: give at least one token.");
            ids = model.Encode(prompt);
        }
        model.CheckSequence(ids);
        return ids;
    }

    public static Option<string> Weights() => new Option<string>("--weights")
    {
        Description = "How layer weights are held: resident (float32), int8 (keep a quantised checkpoint's int8 where it lies in the mapped file; int8 kernels on the CPU) " +
                      "or stream (read each layer from disk when it runs; for machines that cannot hold the model).",
        DefaultValueFactory = _ => "resident",
    }.AcceptOnlyFromAmong("resident", "int8", "stream");

    /// <summary>Loads a model; <paramref name="device"/> may be a device or a device map (it contains ':' after a layer range, or is "auto").</summary>
    public static LoadedModel Load(string path, string device, string weights = "resident")
    {
        bool isMap = device == "auto" || (device.Length > 0 && char.IsDigit(device[0]));
        return ModelLoader.Load(path, new LoadOptions
        {
            Device = isMap ? "cpu" : device,
            DeviceMap = isMap ? device : null,
            Int8Weights = weights == "int8",
            StreamLayers = weights == "stream",
        });
    }
}
