namespace GrokLens.Cluster.Tests;

/// <summary>Where the repository's models and the built CLI are.</summary>
internal static class Paths
{
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrokLens.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("GrokLens.sln not found above " + AppContext.BaseDirectory);
    }

    public static string GrokTiny => Path.Combine(RepositoryRoot(), "models", "grok-tiny");
    public static string Grok1Mini => Path.Combine(RepositoryRoot(), "tests", "fixtures", "grok1-mini");
    public static string Grok2Mini => Path.Combine(RepositoryRoot(), "tests", "fixtures", "grok2-mini");

    /// <summary>The groklens CLI built with the same configuration as these tests (a project reference builds it).</summary>
    public static string CliDll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name; // bin/<Configuration>/net10.0/
        var dll = Path.Combine(RepositoryRoot(), "src", "GrokLens.Cli", "bin", configuration, "net10.0", "groklens.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"The CLI is not built: {dll}");
    }
}
