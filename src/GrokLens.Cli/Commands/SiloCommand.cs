using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using GrokLens.Cluster.Hosting;
using GrokLens.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens silo</c>: loads the layers this machine hosts and serves them as an Orleans silo until stopped. Options,
/// or a JSON config file with the same settings (several models possible there).
/// </summary>
public static class SiloCommand
{
    public static Command Create(CliIO io)
    {
        var config = new Option<string>("--config") { Description = "JSON file with the silo's settings (see docs/cluster.md); replaces the other options." };
        var model = CommonOptions.Model(required: false);
        var name = new Option<string>("--name") { Description = "Name clients use for the model (default: its folder's name)." };
        var layers = new Option<string>("--layers") { Description = "Layers this silo holds, e.g. 0-31 (default: all)." };
        var weights = CommonOptions.Weights();
        var device = CommonOptions.Device();
        var memory = new Option<string>("--memory") { Description = "Memory this silo offers for weights, e.g. 64GiB (default: the machine's)." };
        var redis = new Option<string>("--redis") { Description = "Redis host:port holding the membership table (multi-host clusters)." };
        var primary = new Option<string>("--primary") { Description = "Development clustering: the primary silo's host:silo-port (omit on the primary)." };
        var address = new Option<string>("--address") { Description = "IP address this silo advertises.", DefaultValueFactory = _ => "127.0.0.1" };
        var siloPort = new Option<int>("--silo-port") { Description = "Port for silo-to-silo traffic.", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Port clients connect to.", DefaultValueFactory = _ => 30000 };
        var clusterId = new Option<string>("--cluster-id") { Description = "Cluster id (several clusters can share a Redis).", DefaultValueFactory = _ => GrokLens.Cluster.ClusterNames.DefaultClusterId };
        var lease = new Option<double>("--session-lease") { Description = "Seconds after which a session whose client went silent is freed.", DefaultValueFactory = _ => 30 };

        var command = new Command("silo", "Host model layers as a silo of a GrokLens cluster (Microsoft Orleans) until stopped.")
        {
            config, model, name, layers, weights, device, memory, redis, primary, address, siloPort, gatewayPort, clusterId, lease,
        };
        command.SetAction(parse =>
        {
            var settings = parse.GetValue(config) is { } file ? SiloSettings.Load(file) : new SiloSettings
            {
                Address = parse.GetValue(address)!,
                SiloPort = parse.GetValue(siloPort),
                GatewayPort = parse.GetValue(gatewayPort),
                Redis = parse.GetValue(redis),
                Primary = parse.GetValue(primary),
                ClusterId = parse.GetValue(clusterId)!,
                Memory = parse.GetValue(memory),
                SessionLeaseSeconds = parse.GetValue(lease),
                Models = parse.GetValue(model) is { } path
                    ? [new SiloSettings.ModelSettings { Path = path, Name = parse.GetValue(name), Layers = parse.GetValue(layers),
                        Weights = parse.GetValue(weights)!, Device = parse.GetValue(device)! }]
                    : throw new UsageException("give --model PATH (or --config FILE.json)."),
            };
            return Run(io, settings);
        });
        return command;
    }

    private static int Run(CliIO io, SiloSettings settings)
    {
        if (settings.Models.Count == 0) throw new UsageException("the silo hosts no model: give --model or models in the config file.");
        long memory = settings.Memory is { } text ? ByteSize.Parse(text, "--memory") : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var options = settings.Models.Select(m => new SiloModelOptions
        {
            Path = m.Path,
            Name = m.Name,
            Layers = m.Layers is null ? null : LayerRange.Parse(m.Layers),
            Int8 = m.Weights == "int8",
            Stream = m.Weights == "stream",
            DeviceMap = m.Device is "cpu" or null ? null : m.Device,
        }).ToList();
        var membership = new ClusterMembership
        {
            Redis = settings.Redis,
            Primary = settings.Primary is null ? null : ClusterMembership.ParseEndPoint(settings.Primary),
            ClusterId = settings.ClusterId,
        };
        if (!IPAddress.TryParse(settings.Address, out var ip)) throw new UsageException($"--address '{settings.Address}' is not an IP address.");

        using var models = new ShardModels(options, memory, new Progress<string>(line => io.Error.WriteLine(line)));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            .AddFilter("GrokLens", LogLevel.Information);
        builder.UseOrleans(silo => silo
            .UseGrokLensMembership(membership, ip, settings.SiloPort, settings.GatewayPort)
            .AddGrokLensShards(models, TimeSpan.FromSeconds(settings.SessionLeaseSeconds)));
        using var host = builder.Build();
        host.Start();
        foreach (var hosted in models.Models)
            io.Out.WriteLine($"silo {settings.Address}:{settings.SiloPort} (gateway {settings.GatewayPort}) ready: model '{hosted.Name}' " +
                             $"layers {hosted.Layers} of 0-{hosted.Config.NumLayers - 1}, {Format.Bytes(hosted.WeightBytes)} of weights");
        io.Out.Flush();
        host.WaitForShutdown();
        return CliApp.Ok;
    }

    /// <summary>The silo's settings as a config file holds them (snake_case keys).</summary>
    internal sealed record SiloSettings
    {
        public string Address { get; init; } = "127.0.0.1";
        public int SiloPort { get; init; } = 11111;
        public int GatewayPort { get; init; } = 30000;
        public string? Redis { get; init; }
        public string? Primary { get; init; }
        public string ClusterId { get; init; } = GrokLens.Cluster.ClusterNames.DefaultClusterId;
        public string? Memory { get; init; }
        public double SessionLeaseSeconds { get; init; } = 30;
        public IReadOnlyList<ModelSettings> Models { get; init; } = [];

        internal sealed record ModelSettings
        {
            public string Path { get; init; } = "";
            public string? Name { get; init; }
            public string? Layers { get; init; }
            public string Weights { get; init; } = "resident";
            public string Device { get; init; } = "cpu";
        }

        public static SiloSettings Load(string path)
        {
            if (!File.Exists(path)) throw new CliException($"silo config not found: {path}");
            try
            {
                return JsonSerializer.Deserialize<SiloSettings>(File.ReadAllText(path), new JsonSerializerOptions
                {
                    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
                }) ?? throw new CliException($"{path} holds null.");
            }
            catch (JsonException e)
            {
                throw new CliException($"{path}: invalid silo config: {e.Message}");
            }
        }
    }
}
