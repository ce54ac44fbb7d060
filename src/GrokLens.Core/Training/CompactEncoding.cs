namespace GrokLens.Training;

/// <summary>How a <see cref="CompactTokenizer"/> encodes text whose Grok-1 pieces are not all in its vocabulary.</summary>
public enum CompactEncoding
{
    /// <summary>
    /// Grok-1's merges restricted to the vocabulary, as sentencepiece does after <c>SetVocabulary</c>: a missing piece is
    /// split back into the pieces it was merged from; only characters outside the vocabulary become bytes
    /// (vocab.json version 2).
    /// </summary>
    RestrictedMerges,

    /// <summary>A missing piece becomes the byte pieces of its UTF-8 text (vocab.json version 1, the first grok-tiny).</summary>
    BytesForMissingPieces,
}
