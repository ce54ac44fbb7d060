using System.CommandLine;
using GrokLens.Cluster;

namespace GrokLens.Cli.Commands;

/// <summary><c>groklens cluster status</c>: silos, active shards with their memory, and batch jobs.</summary>
public static class ClusterCommand
{
    public static Command Create(CliIO io)
    {
        var cluster = CommonOptions.Cluster();
        cluster.Required = true;
        var status = new Command("status", "List the cluster's silos (what each hosts), active shards (memory, open sessions) and batch jobs.") { cluster };
        status.SetAction(parse =>
        {
            using var connection = ClusterClientFactory.ConnectAsync(parse.GetValue(cluster)!).GetAwaiter().GetResult();
            io.Out.Write(ClusterStatus.ReadAsync(connection.Client).GetAwaiter().GetResult().Format());
            return CliApp.Ok;
        });
        return new Command("cluster", "Inspect a GrokLens cluster.") { status };
    }
}
