using System.Globalization;

namespace GrokLens.Tokenization;

/// <summary>Helpers for token id lists typed by users (CLI arguments, UI fields).</summary>
public static class TokenIds
{
    /// <summary>
    /// Parses a comma-separated list of token ids such as "1, 422,3033". Whitespace around ids is ignored, and
    /// one pair of surrounding brackets is accepted ("[1, 2, 3]", as printed by Python).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="commaSeparated"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabSize"/> is not positive, or an id is outside [0, vocabSize).</exception>
    /// <exception cref="FormatException">The list is empty, has an empty entry, or an entry is not an integer.</exception>
    public static IReadOnlyList<int> ParseTokenIds(string commaSeparated, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(commaSeparated);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);

        string text = commaSeparated.Trim();
        if (text.Length >= 2 && text[0] == '[' && text[^1] == ']') text = text[1..^1].Trim();
        if (text.Length == 0) throw new FormatException("The token id list is empty; expected comma-separated integers such as \"1,2,3\".");

        string[] parts = text.Split(',');
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i].Trim();
            if (part.Length == 0)
                throw new FormatException($"Token id #{i + 1} is empty (stray comma?) in \"{commaSeparated}\".");
            if (!long.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                throw new FormatException($"Token id #{i + 1} \"{part}\" is not an integer.");
            if (value < 0 || value >= vocabSize)
                throw new ArgumentOutOfRangeException(nameof(commaSeparated), value,
                    $"Token id #{i + 1} ({value}) is outside the vocabulary range [0, {vocabSize}).");
            ids[i] = (int)value;
        }
        return ids;
    }
}
