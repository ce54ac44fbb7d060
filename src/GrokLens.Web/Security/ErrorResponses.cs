using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Diagnostics;

namespace GrokLens.Web.Security;

/// <summary>
/// What the browser gets when a request fails on the server, in every environment: a short page (or plain text for
/// /api/) with the request id to find the logged exception, never a stack trace or a server path.
/// </summary>
public static class ErrorResponses
{
    public static IApplicationBuilder UseWorkbenchErrors(this IApplicationBuilder app) =>
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteAsync });

    private static async Task WriteAsync(HttpContext context)
    {
        var id = Activity.Current?.Id ?? context.TraceIdentifier;
        var status = context.Response.StatusCode is >= 400 and < 600 ? context.Response.StatusCode : 500;
        context.Response.StatusCode = status;
        if (context.Features.Get<IExceptionHandlerPathFeature>()?.Path.StartsWith("/api/", StringComparison.Ordinal) == true)
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync($"The server could not complete this request. The error was logged as request {id}.");
            return;
        }
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>GrokLens · error</title><link href="/app.css" rel="stylesheet"></head>
            <body id="error-page" style="font-family: system-ui, sans-serif; margin: 3rem">
            <h1>Something went wrong on the server</h1>
            <p>The request could not be completed. The error was logged as request <code>{WebUtility.HtmlEncode(id)}</code>.</p>
            <p><a href="/">Back to the workbench</a></p>
            </body></html>
            """);
    }
}
