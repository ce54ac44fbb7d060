using System.Diagnostics;
using System.Text;
using GrokLens.Web.Tests.Browser;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace GrokLens.Web.Tests.Hostile;

/// <summary>
/// The workbench as a real process, stopped with SIGTERM while browsers have circuits open: it ends by itself with exit
/// code 0, and its log holds no exception from closing circuits and no warning (a static asset "not found in the
/// built time manifest" was logged for every request of one of the repository's wwwroot files).
/// Before, Blazor's clients reconnected while the server stopped and their new connections held it up for about 30 s.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ShutdownTests(BrowserFixture fixture, ITestOutputHelper testOutput)
{
    [Fact]
    public async Task SigtermWithOpenCircuitsEndsCleanly()
    {
        // The app's own build output, run from its project folder, as the README's `dotnet run` does.
        var project = Path.Combine(TestRepository.Root, "src", "GrokLens.Web");
        var output = Path.GetRelativePath(Path.Combine(TestRepository.Root, "tests", "GrokLens.Web.Tests"), AppContext.BaseDirectory);
        var app = Path.Combine(project, output, "GrokLens.Web");
        var log = new StringBuilder();
        var address = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var info = new ProcessStartInfo(app)
        {
            ArgumentList = { "--urls", "http://127.0.0.1:0" },
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = project,
            Environment =
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development", // as the README's dotnet run
                [$"GrokLens__{nameof(GrokLens.Web.Services.WorkbenchOptions.ModelsFolder)}"] = fixture.ModelsFolder,
                ["Logging__Console__FormatterName"] = "simple",
            },
        };
        using var server = Process.Start(info)!;
        void Collect(string? line)
        {
            if (line is null) return;
            lock (log) log.AppendLine(line);
            const string marker = "GrokLens workbench: ";
            if (line.StartsWith(marker, StringComparison.Ordinal)) address.TrySetResult(line[marker.Length..].Trim());
        }
        server.OutputDataReceived += (_, e) => Collect(e.Data);
        server.ErrorDataReceived += (_, e) => Collect(e.Data);
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            var baseAddress = await address.Task.WaitAsync(TimeSpan.FromMinutes(3));
            var contexts = new List<IBrowserContext>();
            for (int i = 0; i < 2; i++)
            {
                var context = await fixture.Browser.NewContextAsync();
                contexts.Add(context);
                var page = await context.NewPageAsync();
                page.SetDefaultTimeout(150_000);
                await page.GotoAsync(baseAddress + "/");
                await BrowserFixture.WaitForCircuitAsync(page);
                await new WorkbenchPage(page).RunAsync("The cat sat on the mat.");
            }

            // One tab closed while the server runs (its circuit is disposed, plots purged), one left open at the stop.
            await contexts[0].CloseAsync();

            var clock = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", server.Id.ToString()])) await kill.WaitForExitAsync();
            await server.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            // Reported, not asserted (timings on a shared machine are noisy): 31–33 s in 2 of 5 runs before the stopping gate.
            testOutput.WriteLine($"SIGTERM to exit: {clock.Elapsed.TotalSeconds:0.0} s");
            await contexts[1].CloseAsync();

            string text;
            lock (log) text = log.ToString();
            Assert.True(server.ExitCode == 0, $"exit code {server.ExitCode}\n{text}");
            Assert.DoesNotContain("Exception", text);
            Assert.DoesNotContain("warn:", text); // e.g. "The static asset '/app.css' was not found in the built time manifest", per request
            Assert.DoesNotContain("fail:", text);
            Assert.Contains("Application is shutting down", text);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }
}
