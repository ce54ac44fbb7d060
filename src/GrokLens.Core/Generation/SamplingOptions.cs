namespace GrokLens.Generation;

/// <summary>How to pick each next token.</summary>
public sealed record SamplingOptions
{
    public int MaxNewTokens { get; init; } = 32;

    /// <summary>Divides the logits; 0 means greedy (always the most likely token).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Keep only the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p (nucleus); 1 keeps all.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Same seed, same model and prompt: same tokens.</summary>
    public int Seed { get; init; }

    /// <summary>Stop after the end-of-sequence token (when the tokenizer has one).</summary>
    public bool StopAtEos { get; init; } = true;

    public static SamplingOptions Greedy(int maxNewTokens) => new() { MaxNewTokens = maxNewTokens, Temperature = 0 };

    public SamplingOptions Validated()
    {
        if (MaxNewTokens < 1) throw new ArgumentException("max new tokens must be at least 1.");
        if (Temperature < 0 || double.IsNaN(Temperature)) throw new ArgumentException("temperature must be 0 (greedy) or positive.");
        if (TopK < 0) throw new ArgumentException("top-k must be 0 (off) or positive.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException("top-p must be in (0, 1].");
        return this;
    }
}
