using System.Text.Json.Nodes;
using GrokLens.Checkpoints;
using GrokLens.Engine;
using GrokLens.Tokenization;

namespace GrokLens.Dumps;

/// <summary>Builds the manifest's model and tokenizer descriptions from a loaded model.</summary>
public static class DumpDescriptions
{
    public static DumpModelInfo Model(IModelEngine model)
    {
        var (fingerprint, files) = model.WeightFiles();
        return new DumpModelInfo
        {
            Name = model.Name,
            Config = (JsonObject)JsonNode.Parse(model.Config.ToJson())!,
            WeightsFingerprint = fingerprint,
            WeightFiles = files,
        };
    }

    /// <summary>
    /// Whether <paramref name="model"/> has the weights a dump records: by fingerprint, or for a version 1 dump by the
    /// whole-file SHA-256 it recorded (which reads every weight file once per process; in-process models only). False
    /// for generated weights.
    /// </summary>
    public static bool IsModelOf(IModelEngine model, DumpModelInfo dump)
    {
        if (dump.WeightsFingerprint is { } fingerprint) return model.WeightFiles().Fingerprint == fingerprint;
        return dump.WeightsSha256 is { } sha256 && model is LoadedModel loaded && WeightFilePaths(loaded) is { } files
               && WeightsFingerprint.LegacySha256(files) == sha256;
    }

    /// <summary>The fingerprint of an in-process model's weight files (<see cref="IModelEngine.WeightFiles"/>).</summary>
    public static (string? Fingerprint, IReadOnlyList<DumpWeightFile> Files) Fingerprint(LoadedModel model) =>
        WeightFilePaths(model) is { } paths ? WeightsFingerprint.Compute(paths) : (null, []);

    /// <summary>The weight files the model was loaded from, or null for generated weights (a source that is not on disk).</summary>
    public static IReadOnlyList<string>? WeightFilePaths(LoadedModel model)
    {
        if (model.WeightFilePaths is { } recorded) return recorded;
        if (!Directory.Exists(model.Source) && !File.Exists(model.Source)) return null;
        var found = CheckpointFiles.Find(model.Source);
        // Given a .gguf file, the loader records its folder as the source; beside safetensors the folder alone means those.
        if (model.CheckpointFormat.StartsWith("gguf", StringComparison.Ordinal) && !found[0].EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            var gguf = Directory.GetFiles(model.Source, "*.gguf");
            if (gguf.Length != 1)
                throw new InvalidOperationException(
                    $"Model '{model.Name}' was loaded from one of the {gguf.Length} .gguf files in its folder, and the loader did not record which.");
            return gguf;
        }
        return found;
    }

    public static DumpTokenizerInfo? Tokenizer(ITokenizer? tokenizer) => tokenizer is null ? null : new DumpTokenizerInfo
    {
        Type = tokenizer.GetType().Name,
        VocabSize = tokenizer.VocabSize,
        BosId = tokenizer.BosId,
        EosId = tokenizer.EosId,
        PadId = tokenizer.PadId,
    };

    /// <summary>Raw pieces of <paramref name="tokenIds"/>, or null without a tokenizer.</summary>
    public static IReadOnlyList<string>? Pieces(ITokenizer? tokenizer, IReadOnlyList<int> tokenIds) =>
        tokenizer is null ? null : tokenIds.Select(tokenizer.Piece).ToList();
}
