namespace GrokLens.Web.Views;

/// <summary>Shapes matrices for Plotly heatmaps (the cells themselves travel as a <see cref="TypedArray"/>).</summary>
public static class HeatmapData
{
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
