using System.Globalization;

namespace GrokLens.Model;

/// <summary>Decoder layers <see cref="First"/>…<see cref="Last"/> (inclusive): what one cluster shard holds and runs.</summary>
public readonly record struct LayerRange(int First, int Last)
{
    public int Count => Last - First + 1;

    public bool Contains(int layer) => layer >= First && layer <= Last;

    public static LayerRange All(GrokConfig config) => new(0, config.NumLayers - 1);

    /// <summary>Throws unless the range is non-empty and inside the model's layers.</summary>
    public LayerRange CheckedFor(GrokConfig config) =>
        First < 0 || Last < First || Last >= config.NumLayers
            ? throw new ArgumentException($"Layers {this} are not a range inside the model's layers 0-{config.NumLayers - 1}.")
            : this;

    /// <summary>Parses "3" or "0-31".</summary>
    public static LayerRange Parse(string text)
    {
        var parts = text.Trim().Split('-', StringSplitOptions.TrimEntries);
        bool ok = parts.Length is 1 or 2;
        int first = 0, last = 0;
        ok = ok && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out first);
        ok = ok && int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out last);
        if (!ok || last < first) throw new FormatException($"'{text}' is not a layer range: write e.g. 0-31 or 5.");
        return new LayerRange(first, last);
    }

    public override string ToString() => First == Last ? First.ToString(CultureInfo.InvariantCulture) : $"{First}-{Last}";
}
