using GrokLens.Web.Models;
using Microsoft.Extensions.Options;

namespace GrokLens.Web.Services;

/// <summary>Starts loading the default model when the app starts, so the first session finds it resident (or loading).</summary>
public sealed class DefaultModelLoader(ModelRegistry models, IOptions<WorkbenchOptions> options, ILogger<DefaultModelLoader> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var name = options.Value.DefaultModel;
        _ = Task.Run(async () =>
        {
            try
            {
                using var lease = await models.AcquireAsync(name, cancellation: CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Default model '{Name}' did not load", name);
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
