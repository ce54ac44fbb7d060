namespace GrokLens.Web.Security;

/// <summary>
/// Once the server is stopping, the Blazor hub takes no new connections. Stopping closes the open ones, and Blazor's
/// client reconnects at once; a connection accepted then lived until the client timed out (30 s), holding up the stop.
/// </summary>
public static class StoppingGate
{
    public static IApplicationBuilder UseStoppingGate(this IApplicationBuilder app)
    {
        var stopping = app.ApplicationServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        return app.Use(async (context, next) =>
        {
            if (stopping.IsCancellationRequested && context.Request.Path.StartsWithSegments(OriginCheck.HubPath))
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }
            await next(context);
        });
    }
}
