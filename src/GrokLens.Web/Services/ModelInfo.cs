using GrokLens.Engine;

namespace GrokLens.Web.Services;

/// <summary>What the model panel shows about the loaded model.</summary>
public sealed record ModelInfo(string Name, string Folder, long Parameters, long ActiveParameters, int Layers, int Hidden,
    int Heads, int KvHeads, int Experts, int TopK, int ExpertWidth, int Vocabulary, int Context, string Format, string Device,
    bool HasTokenizer, string CheckpointFormat, string Quantisation, string Residency, string DeviceMap,
    IReadOnlyDictionary<string, long> WeightBytesByDevice)
{
    public static ModelInfo From(LoadedModel model) => new(model.Name, model.Source, model.Config.ParameterCount,
        model.Config.ActiveParameterCount, model.Config.NumLayers, model.Config.HiddenSize, model.Config.NumHeads,
        model.Config.NumKvHeads, model.Config.NumExperts, model.Config.TopK, model.Config.ExpertSize, model.Config.VocabSize,
        model.Config.MaxPositions, model.Format, model.Model.Device.ToString(), model.Tokenizer is not null,
        model.CheckpointFormat, model.Quantisation, model.Residency.ToString().ToLowerInvariant(), model.DeviceMap,
        model.WeightBytesByDevice);

    /// <summary>Weight memory per device, e.g. "cpu 33.8 MiB".</summary>
    public string WeightMemory => string.Join(", ", WeightBytesByDevice.Select(d => $"{d.Key} {Formatting.ByteSize.Format(d.Value)}"));
}
