using System.Globalization;
using System.Text.RegularExpressions;

namespace GrokLens.Cli;

/// <summary>Parses sizes such as 4096, 64KB, 512MB, 1GB (binary units: 1 KB = 1024 bytes).</summary>
internal static partial class ByteSize
{
    public static long Parse(string text, string option)
    {
        var match = Pattern().Match(text.Trim());
        if (!match.Success)
            throw new UsageException($"{option} '{text}' is not a size: give bytes or a number with KB, MB or GB, e.g. 512MB.");
        var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var unit = match.Groups[2].Value.ToUpperInvariant() switch
        {
            "" or "B" => 1L,
            "K" or "KB" => 1L << 10,
            "M" or "MB" => 1L << 20,
            _ => 1L << 30,
        };
        var bytes = number * unit;
        if (bytes < 1 || bytes > long.MaxValue / 2) throw new UsageException($"{option} '{text}' must be at least 1 byte.");
        return (long)bytes;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(B|KB?|MB?|GB?)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
