using System.Globalization;

namespace GrokLens.Cli;

/// <summary>Number formatting for the console, culture-invariant.</summary>
internal static class Format
{
    public static string Bytes(long bytes) => Formatting.ByteSize.Format(bytes);

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Number(double value, string format = "0.###") => value.ToString(format, CultureInfo.InvariantCulture);
}
