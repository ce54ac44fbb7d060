namespace GrokLens.Web.Security;

/// <summary>
/// Refuses cross-origin use of the workbench: the Blazor hub (its negotiate and WebSocket requests) and every request
/// that is not a plain GET must come from a page of this server's own origin, or of an origin the configuration lists
/// (<c>GrokLens:AllowedOrigins</c>). With host filtering (<c>AllowedHosts</c>) this closes DNS rebinding and
/// cross-site WebSocket hijacking of a server on localhost. Requests without an Origin (curl, same-origin navigation)
/// pass.
/// </summary>
public static class OriginCheck
{
    public const string HubPath = "/_blazor";

    public static IApplicationBuilder UseOriginCheck(this IApplicationBuilder app, IReadOnlyCollection<string> allowedOrigins) =>
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            bool guarded = request.Path.StartsWithSegments(HubPath) || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method));
            if (guarded && request.Headers.Origin is [var origin] && !IsAllowed(origin!, request, allowedOrigins))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync($"Cross-origin request refused: a page of {origin} may not use this workbench " +
                                                  "(allowed: this server's own pages, and the origins in GrokLens:AllowedOrigins).");
                return;
            }
            await next(context);
        });

    public static bool IsAllowed(string origin, HttpRequest request, IReadOnlyCollection<string> allowedOrigins) =>
        string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase)
        || allowedOrigins.Any(allowed => string.Equals(origin, allowed.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
}
