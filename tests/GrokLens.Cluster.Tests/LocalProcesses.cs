using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace GrokLens.Cluster.Tests;

/// <summary>A [Fact] that is skipped when Debian's redis-server is not installed.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public const string RedisServer = "/usr/bin/redis-server";

    public RedisFactAttribute()
    {
        if (!File.Exists(RedisServer)) Skip = $"{RedisServer} is not installed (apt-get install redis-server).";
    }
}

internal static class Ports
{
    /// <summary>A port on 127.0.0.1 that was free a moment ago.</summary>
    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static async Task WaitUntilListening(int port, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            catch (SocketException e)
            {
                throw new TimeoutException($"Nothing listens on 127.0.0.1:{port}. {diagnostics?.Invoke()}", e);
            }
        }
    }
}

/// <summary>A process whose output is kept for diagnostics; killed (SIGKILL) on dispose.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process process;
    private readonly System.Text.StringBuilder output = new();
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ChildProcess(string file, IEnumerable<string> arguments, string readyText, string workingDirectory)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        process = new Process { StartInfo = start, EnableRaisingEvents = true };
        void Line(string? line)
        {
            if (line is null) return;
            lock (output) output.AppendLine(line);
            if (line.Contains(readyText, StringComparison.Ordinal)) ready.TrySetResult();
        }
        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"{file} exited ({process.ExitCode}):\n{Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (output) return output.ToString();
        }
    }

    public async Task WaitReady(TimeSpan timeout)
    {
        try
        {
            await ready.Task.WaitAsync(timeout);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"Not ready after {timeout}:\n{Output}", e);
        }
    }

    public bool HasExited => process.HasExited;

    /// <summary>SIGKILL: no shutdown, sockets closed by the kernel.</summary>
    public void Kill()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        process.Dispose();
    }
}

/// <summary>redis-server on a free loopback port, no persistence, plus silo processes of the groklens CLI using it.</summary>
internal sealed class RedisCluster : IAsyncDisposable
{
    private readonly ChildProcess redis;
    private readonly string workingDirectory;
    private readonly List<(ChildProcess Process, int SiloPort, int GatewayPort)> silos = new();

    private RedisCluster(ChildProcess redis, int port, string workingDirectory)
    {
        this.redis = redis;
        RedisPort = port;
        this.workingDirectory = workingDirectory;
    }

    public int RedisPort { get; }
    public string Address => $"redis://127.0.0.1:{RedisPort}";

    public static async Task<RedisCluster> StartAsync()
    {
        int port = Ports.Free();
        var folder = Directory.CreateTempSubdirectory("groklens-redis-").FullName;
        var redis = new ChildProcess(RedisFactAttribute.RedisServer,
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder], "Ready to accept", folder);
        await redis.WaitReady(TimeSpan.FromSeconds(60));
        return new RedisCluster(redis, port, folder);
    }

    /// <summary>Starts silos (one per argument list) in parallel and waits until each has joined and printed "ready".</summary>
    public async Task StartSilos(IEnumerable<string[]> modelArguments, double sessionLeaseSeconds = 30)
    {
        var started = new List<ChildProcess>();
        foreach (var arguments in modelArguments)
        {
            int siloPort = Ports.Free(), gatewayPort = Ports.Free();
            var process = new ChildProcess("dotnet",
                [Paths.CliDll(), "silo", .. arguments, "--redis", $"127.0.0.1:{RedisPort}", "--address", "127.0.0.1",
                 "--silo-port", siloPort.ToString(), "--gateway-port", gatewayPort.ToString(), "--memory", "2GiB",
                 "--session-lease", sessionLeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                "ready:", Paths.RepositoryRoot());
            silos.Add((process, siloPort, gatewayPort));
            started.Add(process);
        }
        await Task.WhenAll(started.Select(p => p.WaitReady(TimeSpan.FromMinutes(3))));
    }

    /// <summary>Kills (SIGKILL) the silo listening on the silo port of <paramref name="siloAddress"/> ("127.0.0.1:port@epoch" style).</summary>
    public void KillSilo(string siloAddress)
    {
        var port = int.Parse(siloAddress.Split('@')[0].Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);
        var silo = silos.Single(s => s.SiloPort == port);
        silo.Process.Kill();
    }

    public void KillSilo(int index) => silos[index].Process.Kill();

    /// <summary>The gateway (host:port) of the silo listening on the silo port of <paramref name="siloAddress"/>.</summary>
    public string GatewayOf(string siloAddress)
    {
        var port = int.Parse(siloAddress.Split('@')[0].Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);
        return $"127.0.0.1:{silos.Single(s => s.SiloPort == port).GatewayPort}";
    }

    /// <summary>The gateways of the silos started, as host:port.</summary>
    public IReadOnlyList<string> Gateways => silos.Select(s => $"127.0.0.1:{s.GatewayPort}").ToList();

    public string SiloOutput(int index) => silos[index].Process.Output;

    public ValueTask DisposeAsync()
    {
        foreach (var (process, _, _) in silos) process.Dispose();
        redis.Dispose();
        try
        {
            Directory.Delete(workingDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
