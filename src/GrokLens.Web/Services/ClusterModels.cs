using GrokLens.Cluster;
using GrokLens.Engine;

namespace GrokLens.Web.Services;

/// <summary>
/// Models served by a GrokLens cluster (setting <c>GrokLens:Cluster</c>, the address <c>--cluster</c> takes): the picker
/// lists them as "name@cluster" beside the models folder's, and loading one connects to it instead of reading weights.
/// One Orleans client per server, connected on first use and again after a failure.
/// </summary>
public sealed class ClusterModels(string? address) : IDisposable
{
    public const string Suffix = "@cluster";
    private static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ListFreshFor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim gate = new(1, 1);
    private ClusterConnection? connection;
    private IReadOnlyList<string> listed = [];
    private DateTime listedUtc = DateTime.MinValue;

    /// <summary>The cluster's address, or null when the workbench uses models in this process only.</summary>
    public string? Address { get; } = string.IsNullOrWhiteSpace(address) ? null : address.Trim();

    /// <summary>Why the last listing failed (the cluster is down or the address is wrong), for the model panel.</summary>
    public string? Error { get; private set; }

    public static bool IsClusterName(string name) => name.EndsWith(Suffix, StringComparison.Ordinal) && name.Length > Suffix.Length;

    /// <summary>The cluster's models as picker names ("name@cluster"); at most a few seconds old; empty without a cluster.</summary>
    public IReadOnlyList<string> List()
    {
        if (Address is null) return [];
        gate.Wait();
        try
        {
            if (DateTime.UtcNow - listedUtc < ListFreshFor) return listed;
            try
            {
                var names = ClusterModel.ListModelsAsync(Connect(), ListTimeout).GetAwaiter().GetResult();
                listed = names.Select(n => n + Suffix).ToList();
                Error = null;
            }
            catch (Exception e) when (e is ClusterUnavailableException or TimeoutException or OrleansException)
            {
                Disconnect();
                listed = [];
                Error = $"The cluster at {Address} does not answer: {e.Message}";
            }
            listedUtc = DateTime.UtcNow;
            return listed;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The cluster's model behind a picker name; its layers stay on the silos.</summary>
    public IModelEngine Open(string name)
    {
        if (!IsClusterName(name)) throw new ArgumentException($"'{name}' is not a cluster model (those end in {Suffix}).");
        gate.Wait();
        IClusterClient client;
        try
        {
            client = Connect();
        }
        finally
        {
            gate.Release();
        }
        return ClusterModel.ConnectAsync(client, name[..^Suffix.Length]).GetAwaiter().GetResult();
    }

    private IClusterClient Connect()
    {
        if (connection is null)
        {
            // Orleans keeps retrying an unreachable gateway; the picker should not wait for it.
            using var patience = new CancellationTokenSource(ConnectTimeout);
            try
            {
                connection = ClusterClientFactory.ConnectAsync(Address!, cancellation: patience.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException e)
            {
                throw new ClusterUnavailableException($"no silo answered at {Address} within {ConnectTimeout.TotalSeconds:0} s.", e);
            }
        }
        return connection.Client;
    }

    private void Disconnect()
    {
        connection?.Dispose();
        connection = null;
    }

    public void Dispose()
    {
        Disconnect();
        gate.Dispose();
    }
}
