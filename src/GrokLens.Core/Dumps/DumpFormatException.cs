namespace GrokLens.Dumps;

/// <summary>A dump that is malformed, corrupt, hostile or from an unsupported format version.</summary>
public sealed class DumpFormatException(string location, string problem, Exception? inner = null)
    : IOException($"{location}: {problem}", inner)
{
    public string Location { get; } = location;
    public string Problem { get; } = problem;
}
