using GrokLens.Tokenization;

namespace GrokLens.Loading;

/// <summary>How to load a model.</summary>
public sealed record LoadOptions
{
    /// <summary>Torch device string: "cpu", "cuda", "cuda:1". A CUDA build of TorchSharp runs the same code.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Overrides the tokenizer found beside the weights.</summary>
    public ITokenizer? Tokenizer { get; init; }

    /// <summary>Display name; defaults to the model folder's name.</summary>
    public string? Name { get; init; }

    public IProgress<LoadProgress>? Progress { get; init; }
}
