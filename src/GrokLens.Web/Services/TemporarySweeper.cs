using GrokLens.Dumps;
using GrokLens.Files;

namespace GrokLens.Web.Services;

/// <summary>
/// At start, removes what a killed workbench left in the temporary folder: download zips, upload spools and dump
/// extractions that no live process holds (see <see cref="StaleTemporaries"/>).
/// </summary>
public sealed class TemporarySweeper(ILogger<TemporarySweeper> log) : IHostedService
{
    public static readonly string[] Patterns = [DumpService.DownloadPrefix + "*.zip", DumpService.UploadPrefix + "*.zip", DumpFormat.ExtractionPrefix + "*"];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        int removed = Patterns.Sum(pattern => StaleTemporaries.Sweep(Path.GetTempPath(), pattern));
        if (removed > 0) log.LogInformation("Removed {Count} temporary files or folders left by an earlier run", removed);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
