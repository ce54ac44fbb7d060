using System.Text.Json.Nodes;
using GrokLens.Checkpoints;
using GrokLens.Engine;
using GrokLens.Tokenization;

namespace GrokLens.Dumps;

/// <summary>Builds the manifest's model and tokenizer descriptions from a loaded model.</summary>
public static class DumpDescriptions
{
    public static DumpModelInfo Model(LoadedModel model)
    {
        var weightFiles = WeightFiles(model);
        var (fingerprint, files) = weightFiles is null ? (null, []) : WeightsFingerprint.Compute(weightFiles);
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
    /// whole-file SHA-256 it recorded (which reads every weight file once per process). False for generated weights.
    /// </summary>
    public static bool IsModelOf(LoadedModel model, DumpModelInfo dump)
    {
        var files = WeightFiles(model);
        if (files is null) return false;
        if (dump.WeightsFingerprint is { } fingerprint) return WeightsFingerprint.Compute(files).Fingerprint == fingerprint;
        return dump.WeightsSha256 is { } sha256 && WeightsFingerprint.LegacySha256(files) == sha256;
    }

    /// <summary>The weight files the model was loaded from, or null for generated weights (a source that is not on disk).</summary>
    public static IReadOnlyList<string>? WeightFiles(LoadedModel model)
    {
        if (model.WeightFiles is { } recorded) return recorded;
        if (!Directory.Exists(model.Source) && !File.Exists(model.Source)) return null;
        var found = CheckpointFiles.Find(model.Source);
        // Given a .gguf file, the loader records its folder as the source; beside safetensors the folder alone means those.
        if (model.CheckpointFormat.StartsWith("gguf", StringComparison.Ordinal) && !found[0].EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            var gguf = Directory.GetFiles(model.Source, "*.gguf");
            if (gguf.Length != 1)
                throw new InvalidOperationException(
                    $"Model '{model.Name}' was loaded from one of the {gguf.Length} .gguf files in {model.Source}, and the loader did not record which.");
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
