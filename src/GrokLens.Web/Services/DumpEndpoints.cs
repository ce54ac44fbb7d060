using GrokLens.Web.Security;

namespace GrokLens.Web.Services;

/// <summary>
/// <c>GET /api/dumps/current?ticket=…&amp;hooks=…</c>: the dump zip of the runs a session registered under the ticket
/// (see <see cref="DumpDownloads"/>: a session's sequence, or a comparison's two runs), with the hooks the patterns select.
/// A plain HTTP download, so the browser streams it to disk like any file and the Blazor circuit stays free. Every
/// refusal is a status with a sentence saying why: 404 for an unknown, used or expired ticket, 403 for another
/// session's, 400 for hook patterns that are malformed or match nothing (the ticket then stays usable).
/// </summary>
public static class DumpEndpoints
{
    public const string CurrentPath = "/api/dumps/current";

    public static void MapDumpEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet(CurrentPath, async (HttpContext context, string? ticket, string? hooks, DumpDownloads downloads, DumpService dumps,
            CancellationToken cancellation) =>
        {
            var session = SessionCookie.Key(context);
            if (downloads.Problem(ticket, session) is { } problem)
                return Results.Text(problem, statusCode: problem.Contains("another browser session") ? 403 : 404);
            IReadOnlyList<string> patterns;
            try
            {
                patterns = DumpService.ParsePatterns(hooks);
                if (downloads.Peek(ticket, session) is { } pending)
                    DumpService.ResolveHooks(pending.Model, patterns); // a pattern matching nothing names the closest hooks
            }
            catch (ArgumentException e)
            {
                return Results.Text(e.Message, statusCode: 400);
            }
            if (!downloads.TryTake(ticket, session, out var request))
                return Results.Text("This download link was just used: open the download dialog again.", statusCode: 404);
            try
            {
                var zip = await dumps.WriteZipAsync(request, patterns, cancellation);
                return Results.File(zip, "application/zip", $"{request.Model.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.zip");
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                return Results.Text(e.Message, statusCode: 400);
            }
        });
}
