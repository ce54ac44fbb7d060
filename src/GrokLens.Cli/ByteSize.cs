namespace GrokLens.Cli;

/// <summary>Size options (<c>--shard-size 4MiB</c>) read with <see cref="Formatting.ByteSize.Parse"/>, as usage errors.</summary>
internal static class ByteSize
{
    public static long Parse(string text, string option)
    {
        try
        {
            return Formatting.ByteSize.Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException($"{option} {e.Message}");
        }
    }
}
