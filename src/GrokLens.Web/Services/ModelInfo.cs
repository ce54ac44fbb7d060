using GrokLens.Engine;

namespace GrokLens.Web.Services;

/// <summary>What the model panel shows about a model.</summary>
public sealed record ModelInfo(string Name, string Folder, long Parameters, long ActiveParameters, int Layers, int Hidden,
    int Heads, int KvHeads, int Experts, int TopK, int ExpertWidth, int Vocabulary, int Context, string Format, string Device,
    bool HasTokenizer, string CheckpointFormat, string Quantisation, string Residency, string DeviceMap,
    IReadOnlyDictionary<string, long> WeightBytesByDevice)
{
    /// <summary>The facts of a model in this process, or of another engine (its layers' placement instead of local memory).</summary>
    public static ModelInfo From(IModelEngine engine)
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
                string.Join("; ", engine.Placement.Select(p => p.Detail)), "", "remote", placement, new Dictionary<string, long>());
    }

    /// <summary>Weight memory per device, e.g. "cpu 33.8 MiB".</summary>
    public string WeightMemory => string.Join(", ", WeightBytesByDevice.Select(d => $"{d.Key} {Formatting.ByteSize.Format(d.Value)}"));
}
