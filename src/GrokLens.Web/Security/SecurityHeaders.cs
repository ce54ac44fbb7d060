namespace GrokLens.Web.Security;

/// <summary>
/// Headers on every response: no MIME sniffing, no framing, no referrer, and a Content-Security-Policy that admits only
/// this origin's scripts (Blazor, MudBlazor, plotly.js and the workbench's own module) and connections.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>
    /// Inline styles are needed: Blazor and MudBlazor set style attributes and plotly.js adds &lt;style&gt; elements.
    /// Images may be data: and blob: URLs (plotly.js draws heatmaps and exports PNGs through them). No inline or
    /// evaluated script is needed by any of them (checked in a browser by the tests).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            return Task.CompletedTask;
        });
        await next(context);
    });
}
