namespace GrokLens.Cli.Commands;

/// <summary>This process's peak resident memory (Linux VmHWM), which can be reset between measured phases.</summary>
internal static class PeakMemory
{
    /// <summary>Resets the peak to the current resident size (writing 5 to /proc/self/clear_refs); false where unsupported.</summary>
    public static bool Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>VmHWM in bytes, or null where /proc is not available.</summary>
    public static long? PeakBytes() => StatusKilobytes("VmHWM:") * 1024;

    private static long? StatusKilobytes(string key)
    {
        if (!File.Exists("/proc/self/status")) return null;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return null;
    }
}
