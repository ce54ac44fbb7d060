using System.Globalization;
using System.Text;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// One table of an analysis in long format (one row per layer, expert, token…), as plain values: what a page shows in a
/// grid and what exports as CSV. Cells are strings, integers, floating-point numbers or null (empty in CSV).
/// </summary>
public sealed record ResultTable(string Name, IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows)
{
    /// <summary>Writes RFC 4180 CSV: a header line, then one line per row; numbers culture-invariant and round-trippable.</summary>
    public void WriteCsv(TextWriter writer)
    {
        writer.Write(string.Join(',', Columns.Select(Quote)));
        writer.Write("\r\n");
        foreach (var row in Rows)
        {
            if (row.Length != Columns.Count)
                throw new InvalidOperationException($"Table '{Name}': a row has {row.Length} cells for {Columns.Count} columns.");
            writer.Write(string.Join(',', row.Select(Cell)));
            writer.Write("\r\n");
        }
    }

    public string ToCsv()
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        WriteCsv(text);
        return text.ToString();
    }

    private static string Cell(object? value) => value switch
    {
        null => "",
        double d when double.IsNaN(d) => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Quote(value.ToString() ?? ""),
    };

    private static string Quote(string text)
    {
        if (text.IndexOfAny([',', '"', '\r', '\n']) < 0 && text.Trim() == text) return text;
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (char c in text) quoted.Append(c == '"' ? "\"\"" : c.ToString());
        return quoted.Append('"').ToString();
    }
}
