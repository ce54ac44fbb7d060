namespace GrokLens.Tools;

/// <summary>
/// A SentencePiece-style vocabulary of any size for synthetic GGUF files (llama.cpp's "llama" tokenizer needs tokens,
/// scores and types): Grok-1's four special tokens ([PAD] 0, [BOS] 1, [EOS] 2, [UNK] 3), the 256 byte-fallback
/// pieces &lt;0x00&gt;…&lt;0xFF&gt; as far as they fit, then made-up word pieces ("▁a", "b", "▁ab", …).
/// </summary>
public sealed record GgufVocabulary(string[] Tokens, float[] Scores, int[] Types)
{
    // llama.cpp's token types.
    public const int Normal = 1, Unknown = 2, Control = 3, Byte = 6;

    public static GgufVocabulary Create(int size)
    {
        if (size < 4) throw new ArgumentException("A vocabulary needs at least the 4 special tokens.", nameof(size));
        var tokens = new List<string> { "[PAD]", "[BOS]", "[EOS]", "[UNK]" };
        var types = new List<int> { Control, Control, Control, Unknown };
        for (int b = 0; b < 256 && tokens.Count < size; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(Byte);
        }
        for (long n = 0; tokens.Count < size; n++)
        {
            tokens.Add((n % 2 == 0 ? "▁" : "") + Letters(n / 2));
            types.Add(Normal);
        }
        var scores = Enumerable.Range(0, size).Select(i => types[i] == Normal ? -(float)i : 0f).ToArray();
        return new GgufVocabulary(tokens.ToArray(), scores, types.ToArray());
    }

    /// <summary>a, b, …, z, aa, ab, …: every n gives a different string.</summary>
    private static string Letters(long n)
    {
        var text = "";
        for (n++; n > 0; n = (n - 1) / 26) text = (char)('a' + (n - 1) % 26) + text;
        return text;
    }

    public void AddTo(GgufWriter writer) => writer
        .Add("tokenizer.ggml.model", "llama")
        .Add("tokenizer.ggml.tokens", Tokens)
        .Add("tokenizer.ggml.scores", Scores)
        .Add("tokenizer.ggml.token_type", Types)
        .Add("tokenizer.ggml.padding_token_id", 0u)
        .Add("tokenizer.ggml.bos_token_id", 1u)
        .Add("tokenizer.ggml.eos_token_id", 2u)
        .Add("tokenizer.ggml.unknown_token_id", 3u);
}
