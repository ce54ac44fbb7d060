namespace GrokLens.Web.Views;

/// <summary>
/// Equal-width bins of a hook's values, counted on the server: a hook can hold millions of values, the browser only
/// needs the counts. Non-finite values are counted apart.
/// </summary>
public sealed record HistogramBins(double Min, double Width, long[] Counts, long Values, long NonFinite)
{
    public IEnumerable<double> Centers => Enumerable.Range(0, Counts.Length).Select(b => Min + (b + 0.5) * Width);

    public static HistogramBins Of(ReadOnlySpan<float> values, int bins)
    {
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), bins, "A histogram needs at least one bin.");
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        long nonFinite = 0;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) { nonFinite++; continue; }
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        var counts = new long[bins];
        if (nonFinite == values.Length) return new HistogramBins(0, 1.0 / bins, counts, values.Length, nonFinite);
        // All values equal: one unit-wide range around them, so the bar has a width.
        if (max == min) (min, max) = (min - 0.5, max + 0.5);
        double width = (max - min) / bins;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) continue;
            counts[Math.Min((int)((v - min) / width), bins - 1)]++;   // the maximum falls in the last bin
        }
        return new HistogramBins(min, width, counts, values.Length, nonFinite);
    }
}
