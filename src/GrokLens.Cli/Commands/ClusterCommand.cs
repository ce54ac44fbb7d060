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
        var model = CommonOptions.Model();
        var silos = new Option<int>("--silos") { Description = "How many silo processes; the layers are split evenly over them.", DefaultValueFactory = _ => 3 };
        var weights = CommonOptions.Weights();
        var local = new Command("local", "Start a cluster on this machine (development clustering on 127.0.0.1) and serve until Ctrl-C.")
        {
            model, silos, weights,
        };
        local.SetAction(parse => Local(io, parse.GetValue(model)!, parse.GetValue(silos), parse.GetValue(weights)!));
        return new Command("cluster", "Start or inspect a GrokLens cluster.") { status, local };
    }

    /// <summary>One silo process per contiguous part of the layers; the first silo keeps the membership table.</summary>
    private static int Local(CliIO io, string model, int count, string weights)
    {
        if (count < 1) throw new UsageException("--silos must be at least 1.");
        int layers = GrokLens.Loading.ModelLoader.ReadConfig(model).NumLayers;
        if (count > layers) throw new UsageException($"the model has {layers} layers: at most {layers} silos.");
        var arguments = Enumerable.Range(0, count).Select(i =>
        {
            int first = i * layers / count, last = (i + 1) * layers / count - 1;
            return new[] { "--model", Path.GetFullPath(model), "--layers", $"{first}-{last}", "--weights", weights };
        }).ToList();
        using var started = LocalSilos.Start(io, arguments, io.Error);
        io.Out.WriteLine($"cluster ready: use --cluster {started.Address} (Ctrl-C stops every silo)");
        io.Out.Flush();
        using var stop = new ManualResetEventSlim();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Set();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var exited = Task.Run(started.WaitForAnyExit);
            WaitHandle.WaitAny([stop.WaitHandle, ((IAsyncResult)exited).AsyncWaitHandle]);
            if (exited.IsCompleted) throw new CliException($"a silo stopped (exit code {exited.Result}); stopping the others.");
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        return CliApp.Ok;
    }
}
