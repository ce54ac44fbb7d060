using GrokLens.Engine;

namespace GrokLens.Web.Services;

/// <summary>What the model panel shows about a model.</summary>
public sealed record ModelInfo(string Name, string Folder, long Parameters, long ActiveParameters, int Layers, int Hidden,
    int Heads, int KvHeads, int Experts, int TopK, int ExpertWidth, int Vocabulary, int Context, string Format, string Device,
    bool HasTokenizer, string CheckpointFormat, string Quantisation, string Residency, string DeviceMap,
    IReadOnlyDictionary<string, long> WeightBytesByDevice)
{
    /// <summary>Grok-1 or Grok-2 and what sets the architecture apart (dense branch, softcaps, attention temperature).</summary>
    public string Architecture { get; init; } = "";

    /// <summary>Where each layer range runs: one entry in this process, one per shard on a cluster.</summary>
    public IReadOnlyList<LayerPlacement> Placement { get; init; } = [];

    /// <summary>One line naming the architecture and the parts a Grok-1 reader would not expect.</summary>
    public static string DescribeArchitecture(Model.GrokConfig config)
    {
        var parts = new List<string>();
        if (config.ResidualMoe) parts.Add($"dense MLP of width {config.DenseSize:N0} beside the experts");
        else parts.Add("experts only");
        parts.Add($"attention softcap {config.AttnLogitSoftcap:0.##}");
        if (config.RouterLogitSoftcap > 0) parts.Add($"router softcap {config.RouterLogitSoftcap:0.##}");
        if (config.FinalLogitSoftcap > 0) parts.Add($"final logit softcap {config.FinalLogitSoftcap:0.##}");
        if (config.AttnTemperatureLen > 0) parts.Add($"attention temperature past position {config.AttnTemperatureLen:N0}");
        return $"{config.Architecture}: {string.Join(", ", parts)}";
    }

    /// <summary>The facts of a model in this process, or of another engine (its layers' placement instead of local memory).</summary>
    public static ModelInfo From(IModelEngine engine) => Facts(engine) with
    {
        Architecture = DescribeArchitecture(engine.Config),
        Placement = engine.Placement,
    };

    private static ModelInfo Facts(IModelEngine engine)
    {
        var config = engine.Config;
        var placement = string.Join(",", engine.Placement.Select(p => $"{p.Layers}:{p.Location}"));
        return engine is LoadedModel model
            ? new(model.Name, model.Source, config.ParameterCount, config.ActiveParameterCount, config.NumLayers, config.HiddenSize,
                config.NumHeads, config.NumKvHeads, config.NumExperts, config.TopK, config.ExpertSize, config.VocabSize,
                config.MaxPositions, model.Format, model.Model.Device.ToString(), model.Tokenizer is not null, model.CheckpointFormat,
                model.Quantisation, model.Residency.ToString().ToLowerInvariant(), model.DeviceMap, model.WeightBytesByDevice)
            // Layers held elsewhere: where they run instead of a folder and this process's memory.
            : new(engine.Name, "", config.ParameterCount, config.ActiveParameterCount, config.NumLayers, config.HiddenSize,
                config.NumHeads, config.NumKvHeads, config.NumExperts, config.TopK, config.ExpertSize, config.VocabSize,
                config.MaxPositions, "remote", placement, engine.Tokenizer is not null,
                string.Join("; ", engine.Placement.Select(p => p.Detail)), "as the silos load it", "remote", placement, new Dictionary<string, long>());
    }

    /// <summary>Weight memory per device, e.g. "cpu 33.8 MiB".</summary>
    public string WeightMemory => Format == "remote" ? "none here: held by the cluster's silos"
        : string.Join(", ", WeightBytesByDevice.Select(d => $"{d.Key} {Formatting.ByteSize.Format(d.Value)}"));
}
