namespace GrokLens.Web.Services;

/// <summary>
/// Finds the repository root (the folder holding GrokLens.sln): the app's web root and models folder live there,
/// whether the app runs from the project folder, a bin folder or a test host.
/// </summary>
public static class RepositoryLocator
{
    public const string MarkerFile = "GrokLens.sln";

    public static string FindRoot(params string?[] startDirectories)
    {
        foreach (var start in startDirectories.Append(AppContext.BaseDirectory).Append(Directory.GetCurrentDirectory()))
        {
            if (string.IsNullOrEmpty(start)) continue;
            for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, MarkerFile)))
                    return dir.FullName;
        }
        throw new DirectoryNotFoundException(
            $"Cannot find the GrokLens repository root ({MarkerFile}) above '{AppContext.BaseDirectory}' or the current directory. " +
            "Set GrokLens:RepositoryRoot.");
    }
}
