using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace GrokLens.Web.Views;

/// <summary>
/// A row-major float32 matrix in plotly.js's typed-array form (<c>{dtype, bdata, shape}</c>, base64 little-endian):
/// far cheaper to write on the server and to read in the browser than one JSON number per cell.
/// </summary>
public sealed record TypedArray(
    [property: JsonPropertyName("dtype")] string DType,
    [property: JsonPropertyName("bdata")] string Data,
    [property: JsonPropertyName("shape")] string Shape)
{
    /// <summary>
    /// The matrix [rows][columns] as float32; NaN and ±∞ become NaN, which plotly.js leaves blank. Rows must all have
    /// the same length.
    /// </summary>
    public static TypedArray Float32(IReadOnlyList<float[]> matrix)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("plotly.js reads little-endian typed arrays.");
        int columns = matrix.Count == 0 ? 0 : matrix[0].Length;
        var values = new float[matrix.Count * columns];
        for (int r = 0; r < matrix.Count; r++)
        {
            if (matrix[r].Length != columns)
                throw new ArgumentException($"Row {r} has {matrix[r].Length} values, row 0 has {columns}.", nameof(matrix));
            var row = values.AsSpan(r * columns, columns);
            matrix[r].CopyTo(row);
            foreach (ref var v in row) if (!float.IsFinite(v)) v = float.NaN;
        }
        return new TypedArray("f4", Convert.ToBase64String(MemoryMarshal.AsBytes(values.AsSpan())), $"{matrix.Count},{columns}");
    }

    /// <summary>The values back (row-major), as plotly.js decodes them.</summary>
    public float[] Values() => MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(Data)).ToArray();
}
