using GrokLens.Cluster;
using GrokLens.Engine;

namespace GrokLens.Cli;

/// <summary>
/// The model a command runs: loaded in this process, or the model of that name on a cluster (<c>--cluster</c>). Dispose
/// to free the model or disconnect.
/// </summary>
internal sealed class EngineHandle : IDisposable
{
    private readonly ClusterConnection? connection;

    private EngineHandle(IModelEngine engine, ClusterConnection? connection)
    {
        Engine = engine;
        this.connection = connection;
    }

    public IModelEngine Engine { get; }

    /// <summary>
    /// With <paramref name="cluster"/>: connects and finds the model named <paramref name="model"/> there; else loads the
    /// model folder or file <paramref name="model"/>.
    /// </summary>
    public static EngineHandle Open(string model, string? cluster, string device, string weights = "resident")
    {
        if (cluster is null) return new EngineHandle(CommonOptions.Load(model, device, weights), null);
        var connection = ClusterClientFactory.ConnectAsync(cluster).GetAwaiter().GetResult();
        try
        {
            var engine = ClusterModel.ConnectAsync(connection.Client, model).GetAwaiter().GetResult();
            return new EngineHandle(engine, connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Engine.Dispose();
        connection?.Dispose();
    }
}
