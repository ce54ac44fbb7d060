namespace GrokLens.Web.Views;

/// <summary>
/// Axis labels for tokens: Plotly merges equal category labels, so a text that occurs more than once gets its position
/// appended ("the·3"); unique texts stay as they are.
/// </summary>
public static class TokenLabels
{
    public static string[] Disambiguate(IReadOnlyList<string> texts)
    {
        var counts = texts.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        return texts.Select((text, position) => counts[text] > 1 ? $"{text}·{position}" : text).ToArray();
    }

    public static TokenView[] Build(IReadOnlyList<int> ids, IReadOnlyList<string> displays, int generatedFrom)
    {
        var labels = Disambiguate(displays);
        return ids.Select((id, t) => new TokenView(t, id, displays[t], labels[t], t >= generatedFrom)).ToArray();
    }
}
