using GrokLens.Web.Views;

namespace GrokLens.Web.Tests.Components;

public sealed class HistogramBinsTests
{
    [Fact]
    public void CountsMatchADirectCountOfEveryBin()
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 5000).Select(_ => (float)(random.NextDouble() * 6 - 2)).ToArray();
        values[10] = float.NaN;
        values[11] = float.PositiveInfinity;

        var bins = HistogramBins.Of(values, 40);

        var finite = values.Where(float.IsFinite).Select(v => (double)v).ToArray();
        double min = finite.Min(), width = (finite.Max() - min) / 40;
        Assert.Equal(min, bins.Min, 12);
        Assert.Equal(width, bins.Width, 12);
        for (int b = 0; b < 40; b++)
        {
            double low = min + b * width, high = min + (b + 1) * width;
            long expected = finite.Count(v => v >= low && (b == 39 ? v <= high : v < high));
            Assert.Equal(expected, bins.Counts[b]);
        }
        Assert.Equal(2, bins.NonFinite);
        Assert.Equal(5000, bins.Values);
        Assert.Equal(4998, bins.Counts.Sum());
    }

    [Fact]
    public void EqualValuesAndNoFiniteValuesStillGiveBins()
    {
        var same = HistogramBins.Of([3f, 3f, 3f], 10);
        Assert.Equal(3, same.Counts.Sum());
        Assert.InRange(same.Centers.ElementAt(Array.FindIndex(same.Counts, c => c == 3)), 2.5, 3.5);

        var none = HistogramBins.Of([float.NaN], 10);
        Assert.Equal(0, none.Counts.Sum());
        Assert.Equal(1, none.NonFinite);
        Assert.Throws<ArgumentOutOfRangeException>(() => HistogramBins.Of([1f], 0));
    }
}
