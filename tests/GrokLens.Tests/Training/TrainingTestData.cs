using GrokLens.Tokenization;
using GrokLens.Training;

namespace GrokLens.Tests.Training;

/// <summary>A tiny corpus and its compact tokenizer, built once per test run.</summary>
internal static class TrainingTestData
{
    private static readonly Lazy<GrokSentencePieceTokenizer> grok = new(GrokSentencePieceTokenizer.LoadDefault);

    public static GrokSentencePieceTokenizer Grok => grok.Value;

    public const string RepetitiveText =
        "The little cat sat on the mat. The little dog sat on the log. The little bird sat on the tree.\n\n";

    public static CorpusText Corpus(int repeats = 40) =>
        CorpusText.FromTexts([("tiny-a", string.Concat(Enumerable.Repeat(RepetitiveText, repeats))),
                              ("tiny-b", string.Concat(Enumerable.Repeat("Once upon a time a cat met a dog.\n\n", repeats)))]);

    public static CompactTokenizer Tokenizer(CorpusText corpus) =>
        new(Grok, CompactVocabulary.Build(Grok, corpus.TrainTexts));
}

/// <summary>An IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
{
    public void Report(T value) => action(value);
}
