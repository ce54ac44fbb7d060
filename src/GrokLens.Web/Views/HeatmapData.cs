namespace GrokLens.Web.Views;

/// <summary>
/// Shapes matrices for Plotly heatmaps: rows of nullable numbers (NaN and ±∞ become null, which Plotly leaves blank
/// and JSON can carry), rounded to keep the payload small.
/// </summary>
public static class HeatmapData
{
    public const int Digits = 4;

    public static List<object> Rows(IReadOnlyList<float[]> matrix) =>
        matrix.Select(row => (object)row.Select(Cell).ToArray()).ToList();

    public static double? Cell(float value) => float.IsFinite(value) ? Math.Round(value, Digits) : null;

    /// <summary>Transposes [rows][columns] to [columns][rows] (e.g. stage × token from token × stage).</summary>
    public static float[][] Transpose(IReadOnlyList<float[]> matrix) =>
        matrix.Count == 0 ? []
        : Enumerable.Range(0, matrix[0].Length).Select(c => matrix.Select(row => row[c]).ToArray()).ToArray();

    /// <summary>Smallest and largest finite value (0, 1 when there is none).</summary>
    public static (double Min, double Max) Range(IEnumerable<float[]> matrix)
    {
        var finite = matrix.SelectMany(r => r).Where(float.IsFinite).ToList();
        return finite.Count == 0 ? (0, 1) : (finite.Min(), finite.Max());
    }
}
