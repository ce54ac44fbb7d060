using System.Globalization;
using System.Text;

namespace GrokLens.Training;

/// <summary>
/// Draws a training log as a self-contained SVG line chart: training loss (smoothed over a moving window, raw steps
/// faint behind it), validation loss as points, and optional horizontal reference lines (e.g. the bigram baseline).
/// SVG keeps the repository free of image tooling and renders on GitHub.
/// </summary>
public static class TrainingCurveSvg
{
    private const int Width = 760, Height = 420, Left = 70, Right = 170, Top = 40, Bottom = 55;

    public static string Render(IReadOnlyList<(int Step, double TrainLoss, double ValidationLoss)> rows, string title,
        IReadOnlyList<(string Label, double Value)>? references = null, int smoothing = 25)
    {
        if (rows.Count == 0) throw new ArgumentException("The training log has no rows to plot.");
        references ??= [];
        var validation = rows.Where(r => !double.IsNaN(r.ValidationLoss)).ToList();
        var smoothed = rows.Select((_, i) => rows.Skip(Math.Max(0, i - smoothing + 1)).Take(Math.Min(smoothing, i + 1)).Average(r => r.TrainLoss)).ToList();

        double xMax = rows.Max(r => r.Step), xMin = Math.Min(0, rows.Min(r => r.Step));
        var values = rows.Select(r => r.TrainLoss).Concat(validation.Select(v => v.ValidationLoss)).Concat(references.Select(r => r.Value)).ToList();
        double yMin = Math.Floor(values.Min()), yMax = Math.Ceiling(values.Max());
        double X(double step) => Left + (step - xMin) / Math.Max(1e-9, xMax - xMin) * (Width - Left - Right);
        double Y(double loss) => Top + (yMax - loss) / Math.Max(1e-9, yMax - yMin) * (Height - Top - Bottom);
        static string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.AppendLine($"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="12">""");
        svg.AppendLine($"""<rect width="{Width}" height="{Height}" fill="white"/>""");
        svg.AppendLine($"""<text x="{Width / 2}" y="22" text-anchor="middle" font-size="15">{Escape(title)}</text>""");
        foreach (var tick in Ticks(yMin, yMax))
        {
            svg.AppendLine($"""<line x1="{Left}" x2="{Width - Right}" y1="{N(Y(tick))}" y2="{N(Y(tick))}" stroke="#e4e4e4"/>""");
            svg.AppendLine($"""<text x="{Left - 6}" y="{N(Y(tick) + 4)}" text-anchor="end">{tick.ToString("0.#", CultureInfo.InvariantCulture)}</text>""");
        }
        foreach (var tick in Ticks(xMin, xMax))
            svg.AppendLine($"""<text x="{N(X(tick))}" y="{Height - Bottom + 18}" text-anchor="middle">{tick.ToString("0", CultureInfo.InvariantCulture)}</text>""");
        svg.AppendLine($"""<line x1="{Left}" x2="{Width - Right}" y1="{Height - Bottom}" y2="{Height - Bottom}" stroke="black"/>""");
        svg.AppendLine($"""<line x1="{Left}" x2="{Left}" y1="{Top}" y2="{Height - Bottom}" stroke="black"/>""");
        svg.AppendLine($"""<text x="{(Left + Width - Right) / 2}" y="{Height - 12}" text-anchor="middle">optimizer step</text>""");
        svg.AppendLine($"""<text transform="translate(18 {(Top + Height - Bottom) / 2}) rotate(-90)" text-anchor="middle">cross-entropy (nats/token)</text>""");

        string Line(IEnumerable<(double X, double Y)> points) => string.Join(" ", points.Select(p => $"{N(X(p.X))},{N(Y(p.Y))}"));
        svg.AppendLine($"""<polyline fill="none" stroke="#9ecae1" stroke-width="1" points="{Line(rows.Select(r => ((double)r.Step, r.TrainLoss)))}"/>""");
        svg.AppendLine($"""<polyline fill="none" stroke="#08519c" stroke-width="2" points="{Line(rows.Select((r, i) => ((double)r.Step, smoothed[i])))}"/>""");
        if (validation.Count > 0)
        {
            svg.AppendLine($"""<polyline fill="none" stroke="#d94801" stroke-width="2" points="{Line(validation.Select(v => ((double)v.Step, v.ValidationLoss)))}"/>""");
            foreach (var v in validation)
                svg.AppendLine($"""<circle cx="{N(X(v.Step))}" cy="{N(Y(v.ValidationLoss))}" r="3.5" fill="#d94801"/>""");
        }
        var colours = new[] { "#31a354", "#756bb1", "#636363" };
        for (int i = 0; i < references.Count; i++)
            svg.AppendLine($"""<line x1="{Left}" x2="{Width - Right}" y1="{N(Y(references[i].Value))}" y2="{N(Y(references[i].Value))}" stroke="{colours[i % colours.Length]}" stroke-dasharray="6 4" stroke-width="1.5"/>""");

        var legend = new List<(string Colour, string Label)> { ("#9ecae1", "train (per step)"), ("#08519c", $"train ({smoothing}-step mean)") };
        if (validation.Count > 0) legend.Add(("#d94801", "validation"));
        legend.AddRange(references.Select((r, i) => (colours[i % colours.Length], $"{r.Label} {r.Value.ToString("0.00", CultureInfo.InvariantCulture)}")));
        for (int i = 0; i < legend.Count; i++)
        {
            int y = Top + 10 + i * 20;
            svg.AppendLine($"""<line x1="{Width - Right + 12}" x2="{Width - Right + 34}" y1="{y}" y2="{y}" stroke="{legend[i].Colour}" stroke-width="2.5"/>""");
            svg.AppendLine($"""<text x="{Width - Right + 40}" y="{y + 4}">{Escape(legend[i].Label)}</text>""");
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    /// <summary>About five round tick values covering [min, max].</summary>
    private static IEnumerable<double> Ticks(double min, double max)
    {
        double raw = Math.Max(1e-9, (max - min) / 5), magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        for (double t = Math.Ceiling(min / step) * step; t <= max + 1e-9; t += step) yield return t;
    }

    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
