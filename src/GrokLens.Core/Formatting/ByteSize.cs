using System.Globalization;
using System.Text.RegularExpressions;

namespace GrokLens.Formatting;

/// <summary>
/// Byte sizes as GrokLens writes and reads them: binary units labelled as such (1 KiB = 1024 B, 1 MiB = 1024 KiB, …),
/// in the CLI, the workbench, settings and docs alike.
/// </summary>
public static partial class ByteSize
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    /// <summary>"512 B", "4.00 KiB", "33.8 MiB", "200 MiB", "1.15 TiB": three significant digits from 1 KiB on.</summary>
    public static string Format(long bytes)
    {
        if (bytes < 0) return "-" + Format(bytes == long.MinValue ? long.MaxValue : -bytes);
        if (bytes < 1024) return $"{bytes} B";
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        // Rounding may reach 1024 ("1024 KiB"): show the next unit instead.
        if (Math.Round(value) >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        var digits = value < 9.995 ? "0.00" : value < 99.95 ? "0.0" : "0";
        return value.ToString(digits, CultureInfo.InvariantCulture) + " " + Units[unit];
    }

    /// <summary>
    /// Reads "4096", "64KiB", "512 MiB", "1.5GiB" (or the binary shorthands K, M, G, T). Decimal-looking units (KB, MB,
    /// GB, TB) are refused rather than guessed. Throws <see cref="FormatException"/> with the reason.
    /// </summary>
    public static long Parse(string text)
    {
        var match = Pattern().Match(text.Trim());
        if (!match.Success)
        {
            var hint = DecimalUnit().IsMatch(text.Trim())
                ? " Sizes use binary units: write KiB, MiB or GiB (1 MiB = 1,048,576 bytes)."
                : " Give bytes or a number with KiB, MiB, GiB or TiB, e.g. 512MiB.";
            throw new FormatException($"'{text}' is not a size.{hint}");
        }
        var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        int power = match.Groups[2].Value.ToUpperInvariant() switch
        {
            "" or "B" => 0,
            "K" or "KIB" => 1,
            "M" or "MIB" => 2,
            "G" or "GIB" => 3,
            _ => 4,
        };
        var bytes = number * Math.Pow(1024, power);
        if (bytes < 1) throw new FormatException($"'{text}' must be at least 1 byte.");
        if (bytes > long.MaxValue / 2) throw new FormatException($"'{text}' is too large.");
        return (long)bytes;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(B|K|M|G|T|KiB|MiB|GiB|TiB)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    [GeneratedRegex(@"^\d+(?:\.\d+)?\s*(KB|MB|GB|TB)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DecimalUnit();
}
