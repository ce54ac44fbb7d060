using GrokLens.Hooks;

namespace GrokLens.Web.Services;

/// <summary>
/// <c>GET /api/dumps/current?ticket=…&amp;hooks=…</c>: the dump zip of the runs a session registered under the ticket
/// (see <see cref="DumpDownloads"/>: a session's sequence, or a comparison's two runs), with the hooks the patterns select. A plain HTTP download, so the browser streams
/// it to disk like any file and the Blazor circuit stays free.
/// </summary>
public static class DumpEndpoints
{
    public const string CurrentPath = "/api/dumps/current";

    public static void MapDumpEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet(CurrentPath, async (string? ticket, string? hooks, DumpDownloads downloads, DumpService dumps, CancellationToken cancellation) =>
        {
            if (!downloads.TryGet(ticket, out var request))
                return Results.Text("This download link is unknown or has expired: open the download dialog again.", statusCode: 404);
            try
            {
                var zip = await dumps.WriteZipAsync(request, DumpService.ParsePatterns(hooks), cancellation);
                return Results.File(zip, "application/zip", $"{request.Model.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.zip");
            }
            catch (Exception e) when (e is UnknownHookException or InvalidOperationException)
            {
                return Results.Text(e.Message, statusCode: 400);
            }
        });
}
