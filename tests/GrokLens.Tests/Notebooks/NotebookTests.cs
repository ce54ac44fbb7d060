using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GrokLens.Tests.Notebooks;

/// <summary>
/// Runs every C# notebook in notebooks/ headless with dotnet-repl (a local tool, .config/dotnet-tools.json) and fails
/// on any cell error, so the notebooks cannot rot. They load models/grok-tiny and the Debug build of the CLI's output.
/// </summary>
public class NotebookTests
{
    private static string Root => TestModels.RepositoryRoot();

    [Theory]
    [InlineData("01-quickstart.ipynb")]
    [InlineData("02-intervention-comparison.ipynb")]
    [InlineData("03-batch-routing-statistics.ipynb")]
    public void TheNotebookRunsWithoutACellError(string name)
    {
        var notebook = Path.Combine(Root, "notebooks", name);
        var build = Path.Combine(Root, "src", "GrokLens.Cli", "bin", "Debug", "net10.0", "GrokLens.Core.dll");
        Assert.True(File.Exists(build), $"{build} is missing: the notebooks use the Debug build (dotnet build GrokLens.sln).");
        Assert.Equal(0, Run(Root, "tool", "restore").Code);

        var trx = Path.Combine(Path.GetTempPath(), $"groklens-notebook-{Guid.NewGuid():N}.trx");
        try
        {
            var (code, output) = Run(Path.GetDirectoryName(notebook)!, "tool", "run", "dotnet-repl", "--",
                "--run", name, "--exit-after-run", "--output-format", "trx", "--output-path", trx);
            var results = File.Exists(trx) ? File.ReadAllText(trx) : "";
            var failures = Regex.Matches(results, "<Message>(.*?)</Message>", RegexOptions.Singleline).Select(m => m.Groups[1].Value);
            Assert.True(code == 0, $"dotnet-repl exited with {code}:\n{string.Join("\n", failures)}\n{Tail(output)}");
            // One result per executed cell (dotnet-repl also lists markdown cells); all must pass.
            var cells = Regex.Matches(results, "<UnitTestResult [^>]*outcome=\"(\\w+)\"").Select(m => m.Groups[1].Value).ToList();
            Assert.All(cells, outcome => Assert.Equal("Passed", outcome));
            Assert.True(cells.Count >= CodeCells(notebook), $"only {cells.Count} cell results for {CodeCells(notebook)} code cells");
        }
        finally
        {
            File.Delete(trx);
        }
    }

    private static int CodeCells(string notebook)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(notebook));
        return json.RootElement.GetProperty("cells").EnumerateArray().Count(c => c.GetProperty("cell_type").GetString() == "code");
    }

    private static (int Code, string Output) Run(string directory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} took over 15 minutes.");
        }
        return (process.ExitCode, output + error.Result);
    }

    private static string Tail(string text) => text.Length > 3000 ? text[^3000..] : text;
}
