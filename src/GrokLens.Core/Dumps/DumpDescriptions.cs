using System.Text.Json.Nodes;
using GrokLens.Engine;
using GrokLens.Tokenization;

namespace GrokLens.Dumps;

/// <summary>Builds the manifest's model and tokenizer descriptions from a loaded model.</summary>
public static class DumpDescriptions
{
    public static DumpModelInfo Model(IModelEngine model)
    {
        var (sha256, files) = model.WeightFiles();
        return new DumpModelInfo
        {
            Name = model.Name,
            Config = (JsonObject)JsonNode.Parse(model.Config.ToJson())!,
            WeightsSha256 = sha256,
            WeightFiles = files,
        };
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
