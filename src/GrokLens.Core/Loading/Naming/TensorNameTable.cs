using GrokLens.Model;

namespace GrokLens.Loading.Naming;

/// <summary>
/// One checkpoint format's names for the model's weights: for each <see cref="WeightKind"/> the names a whole tensor may
/// have (preferred first) and, for expert matrices, the name of one expert's tensor when experts are stored one by one.
/// Templates hold <c>{l}</c> for the layer and <c>{e}</c> for the expert. The only place a format's names are spelled.
/// </summary>
public sealed class TensorNameTable
{
    private readonly IReadOnlyDictionary<WeightKind, string[]> whole;
    private readonly IReadOnlyDictionary<WeightKind, string> perExpert;

    public TensorNameTable(string style, IReadOnlyDictionary<WeightKind, string[]> whole,
        IReadOnlyDictionary<WeightKind, string>? perExpert = null)
    {
        Style = style;
        this.whole = whole;
        this.perExpert = perExpert ?? new Dictionary<WeightKind, string>();
    }

    /// <summary>Short description for messages and the model panel, e.g. "model.layers (Grok-2)".</summary>
    public string Style { get; }

    /// <summary>Names the whole tensor may be stored under (stacked for experts), preferred first; empty if the format has none.</summary>
    public IReadOnlyList<string> Names(WeightId id) =>
        whole.TryGetValue(id.Kind, out var templates) ? templates.Select(t => Fill(t, id.Layer, 0)).ToArray() : [];

    /// <summary>The name of one expert's matrix when experts are stored separately; null if the format never does that.</summary>
    public string? PerExpertName(WeightId id, int expert) =>
        perExpert.TryGetValue(id.Kind, out var template) ? Fill(template, id.Layer, expert) : null;

    /// <summary>The name this format writes a whole tensor under.</summary>
    public string PreferredName(WeightId id) =>
        Names(id).FirstOrDefault() ?? throw new ArgumentException($"The {Style} naming has no name for {id}.");

    /// <summary>Every stored name a model with these weights may use, and the weight each belongs to.</summary>
    public IReadOnlyDictionary<string, WeightId> Expected(IEnumerable<WeightId> weights, int numExperts)
    {
        var names = new Dictionary<string, WeightId>(StringComparer.Ordinal);
        foreach (var id in weights)
        {
            foreach (var name in Names(id)) names[name] = id;
            if (!id.IsExpertStack) continue;
            for (int expert = 0; expert < numExperts; expert++)
                if (PerExpertName(id, expert) is { } single) names[single] = id;
        }
        return names;
    }

    private static string Fill(string template, int layer, int expert) =>
        template.Replace("{l}", layer.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{e}", expert.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
