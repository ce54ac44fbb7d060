using Microsoft.Extensions.Options;

namespace GrokLens.Web.Services;

/// <summary>Starts loading the default model when the app starts; requests queue behind the load.</summary>
public sealed class DefaultModelLoader(ModelHost host, IOptions<WorkbenchOptions> options, ILogger<DefaultModelLoader> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var name = options.Value.DefaultModel;
        // LoadAsync takes the model lock synchronously, so nothing can run before the default model is in.
        _ = host.LoadAsync(name).ContinueWith(t => logger.LogError(t.Exception, "Default model '{Name}' did not load", name),
            TaskContinuationOptions.OnlyOnFaulted);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
