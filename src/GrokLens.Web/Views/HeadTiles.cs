namespace GrokLens.Web.Views;

/// <summary>
/// The heads of a layer as tiles of one matrix (<see cref="Columns"/> tiles per row, <see cref="Gap"/> blank cells between
/// tiles, room for each tile's title), so the small-multiples grid is a single heatmap: one trace draws far faster than
/// a subplot per head.
/// </summary>
public sealed class HeadTiles(int heads, int size, int columns = 4)
{
    public int Heads { get; } = heads;
    public int Size { get; } = size;
    public int Columns { get; } = Math.Min(columns, heads);
    public int Gap { get; } = Math.Max(2, size / 6);
    public int Rows => (Heads + Columns - 1) / Columns;
    public int Height => Rows * (Size + Gap) - Gap;
    public int Width => Columns * (Size + Gap) - Gap;

    /// <summary>Top-left cell of a head's tile.</summary>
    public (int Row, int Column) Origin(int head) => (head / Columns * (Size + Gap), head % Columns * (Size + Gap));

    /// <summary>The head, query and key under a cell of the tiled matrix; null on the blank cells between tiles.</summary>
    public (int Head, int Query, int Key)? At(int row, int column)
    {
        if (row < 0 || column < 0 || row >= Height || column >= Width) return null;
        int query = row % (Size + Gap), key = column % (Size + Gap);
        int head = row / (Size + Gap) * Columns + column / (Size + Gap);
        return query >= Size || key >= Size || head >= Heads ? null : (head, query, key);
    }

    /// <summary>
    /// A label per column of the tiled matrix: the key token's label; tiles further right get zero-width spaces appended,
    /// as Plotly merges equal category labels. Blank columns get a (never shown) label of their own.
    /// </summary>
    public string[] ColumnLabels(IReadOnlyList<string> tokens) => Labels(Width, tokens);

    /// <summary>A label per row of the tiled matrix: the query token's label (made distinct per tile row the same way).</summary>
    public string[] RowLabels(IReadOnlyList<string> tokens) => Labels(Height, tokens);

    private string[] Labels(int count, IReadOnlyList<string> tokens)
    {
        if (tokens.Count != Size) throw new ArgumentException($"Expected {Size} token labels, got {tokens.Count}.", nameof(tokens));
        return Enumerable.Range(0, count).Select(i =>
        {
            int tile = i / (Size + Gap), within = i % (Size + Gap);
            return within < Size ? tokens[within] + new string('​', tile) : $"gap {i}";
        }).ToArray();
    }

    /// <summary>Tiles the heads' [query][key] matrices; the blank cells are NaN (gaps in the heatmap).</summary>
    public float[][] Tile(IReadOnlyList<float[][]> matrices)
    {
        if (matrices.Count != Heads) throw new ArgumentException($"Expected {Heads} heads, got {matrices.Count}.", nameof(matrices));
        var tiled = new float[Height][];
        for (int r = 0; r < Height; r++) Array.Fill(tiled[r] = new float[Width], float.NaN);
        for (int h = 0; h < Heads; h++)
        {
            var (row, column) = Origin(h);
            for (int q = 0; q < Size; q++) Array.Copy(matrices[h][q], 0, tiled[row + q], column, Size);
        }
        return tiled;
    }
}
