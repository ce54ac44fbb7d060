namespace GrokLens.Tokenization;

/// <summary>Finds the Grok-1 tokenizer shipped with the repository.</summary>
public static class TokenizerLocator
{
    /// <summary>Location of the default tokenizer relative to the repository root.</summary>
    public const string DefaultRelativePath = "models/grok1-tokenizer/tokenizer.model";

    /// <summary>
    /// Walks up from <paramref name="startDirectory"/> (default: <see cref="AppContext.BaseDirectory"/>, so it works
    /// from bin folders of tests and tools) and returns the full path of the first
    /// <c>models/grok1-tokenizer/tokenizer.model</c> found.
    /// </summary>
    /// <exception cref="FileNotFoundException">No directory on the way up contains the file; the message lists where it looked.</exception>
    public static string FindDefaultModelPath(string? startDirectory = null)
    {
        string start = Path.GetFullPath(startDirectory ?? AppContext.BaseDirectory);
        string relative = DefaultRelativePath.Replace('/', Path.DirectorySeparatorChar);
        var looked = new List<string>();
        // Also from the working directory when no start is given: a copied or published build run inside the repository.
        var starts = startDirectory is null ? new[] { start, Directory.GetCurrentDirectory() } : [start];
        foreach (var from in starts)
            for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate)) return candidate;
                if (!looked.Contains(candidate)) looked.Add(candidate);
            }
        throw new FileNotFoundException(
            $"Grok-1 tokenizer '{DefaultRelativePath}' not found in '{start}' or any parent directory. Looked at:"
            + Environment.NewLine + string.Join(Environment.NewLine, looked.Select(p => "  " + p))
            + Environment.NewLine + "Pass the path of a tokenizer.model explicitly, or run from inside the GrokLens repository.",
            DefaultRelativePath);
    }
}
