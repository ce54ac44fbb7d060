using GrokLens.Tokenization;
using GrokLens.Web.Models;

namespace GrokLens.Web.Services;

/// <summary>One vocabulary entry as the target field shows it: its id and visible piece (e.g. 5093, "▁mat").</summary>
public readonly record struct VocabularyToken(int Id, string Text)
{
    /// <summary>What the field holds once it is picked: "#id" always means exactly this token.</summary>
    public string Input => $"#{Id}";
}

/// <summary>
/// The target-token field read live: the tokens the typed text is (one is a valid target), and vocabulary entries that
/// complete it. A word-start piece carries SentencePiece's "▁": typing <c>mat</c> gives ▁mat, while <c> mat</c> (with
/// a space) is two tokens.
/// </summary>
public static class TargetTokens
{
    /// <summary>The tokens of the typed target: "#id" is that id; text goes through the tokenizer; empty for no text.</summary>
    public static IReadOnlyList<VocabularyToken> Read(IWorkbenchModel model, string? typed)
    {
        if (string.IsNullOrEmpty(typed)) return [];
        if (typed.StartsWith('#') && int.TryParse(typed[1..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
            return id < model.Config.VocabSize ? [new VocabularyToken(id, Text(model.Tokenizer, id))] : [];
        return model.Tokenizer is { } tokenizer ? [.. tokenizer.Encode(typed).Select(t => new VocabularyToken(t, tokenizer.DisplayPiece(t)))] : [];
    }

    /// <summary>
    /// Up to <paramref name="count"/> vocabulary entries whose text (with "▁" read as a space, leading space ignored)
    /// starts with the typed text: the exact matches first, then the shortest; word starts before word pieces.
    /// </summary>
    public static IReadOnlyList<VocabularyToken> Complete(ITokenizer? tokenizer, string? typed, int count = 8)
    {
        var prefix = typed?.Trim();
        if (tokenizer is null || string.IsNullOrEmpty(prefix) || prefix.StartsWith('#')) return [];
        var matches = new List<(VocabularyToken Token, string Word, bool WordStart)>();
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            var piece = tokenizer.DisplayPiece(id);
            bool wordStart = piece.StartsWith('▁');
            var word = wordStart ? piece[1..] : piece;
            if (word.StartsWith(prefix, StringComparison.Ordinal)) matches.Add((new VocabularyToken(id, piece), word, wordStart));
        }
        return [.. matches
            .OrderBy(m => m.Word.Length != prefix.Length)
            .ThenBy(m => m.Word.Length)
            .ThenBy(m => !m.WordStart)
            .ThenBy(m => m.Token.Id)
            .Take(count)
            .Select(m => m.Token)];
    }

    private static string Text(ITokenizer? tokenizer, int id) => tokenizer?.DisplayPiece(id) ?? $"#{id}";
}
