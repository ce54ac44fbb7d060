using GrokLens.Web.Views;

namespace GrokLens.Web.Tests.Components;

public sealed class HeadTilesTests
{
    private static float[][][] Heads(int heads, int size) =>
        Enumerable.Range(0, heads).Select(h => Enumerable.Range(0, size).Select(q =>
            Enumerable.Range(0, size).Select(k => (float)(h * 10_000 + q * 100 + k)).ToArray()).ToArray()).ToArray();

    [Fact]
    public void EveryCellOfEveryHeadLandsInItsTileAndMapsBack()
    {
        var tiles = new HeadTiles(heads: 6, size: 12, columns: 4);   // two rows of tiles, the second half full
        var tiled = tiles.Tile(Heads(6, 12));
        Assert.Equal(tiles.Height, tiled.Length);
        Assert.All(tiled, row => Assert.Equal(tiles.Width, row.Length));

        int cells = 0;
        for (int r = 0; r < tiles.Height; r++)
            for (int c = 0; c < tiles.Width; c++)
            {
                if (tiles.At(r, c) is { } at)
                {
                    Assert.Equal(at.Head * 10_000 + at.Query * 100 + at.Key, tiled[r][c]);
                    var (row, column) = tiles.Origin(at.Head);
                    Assert.Equal((r, c), (row + at.Query, column + at.Key));
                    cells++;
                }
                else
                {
                    Assert.True(float.IsNaN(tiled[r][c]), $"cell ({r}, {c}) between tiles is not blank");
                }
            }
        Assert.Equal(6 * 12 * 12, cells);
        Assert.Null(tiles.At(-1, 0));
        Assert.Null(tiles.At(0, tiles.Width));
    }

    [Fact]
    public void WrongNumberOfHeadsIsRefused() =>
        Assert.Throws<ArgumentException>(() => new HeadTiles(8, 4).Tile(Heads(7, 4)));
}
