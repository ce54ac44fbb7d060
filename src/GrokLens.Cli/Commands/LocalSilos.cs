using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace GrokLens.Cli.Commands;

/// <summary>Silo processes of this CLI with development clustering on 127.0.0.1 (the first is the primary); killed on dispose.</summary>
internal sealed class LocalSilos : IDisposable
{
    private readonly List<Process> processes = new();

    public string Address { get; private set; } = "";

    /// <summary>Waits until one of the silos exits (it failed, or was stopped) and returns its exit code.</summary>
    public int WaitForAnyExit()
    {
        while (true)
        {
            foreach (var process in processes)
                if (process.WaitForExit(200)) return process.ExitCode;
        }
    }

    public static LocalSilos Start(CliIO io, IReadOnlyList<string[]> models, TextWriter? echo = null)
    {
        var silos = new LocalSilos();
        try
        {
            var gateways = new List<string>();
            int primaryPort = 0;
            foreach (var arguments in models)
            {
                int siloPort = FreePort(), gatewayPort = FreePort();
                var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
                if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(CliApp).Assembly.Location);
                foreach (var argument in (string[])["silo", .. arguments, "--address", "127.0.0.1", "--silo-port", siloPort.ToString(),
                             "--gateway-port", gatewayPort.ToString(), "--memory", "12GiB"])
                    start.ArgumentList.Add(argument);
                if (primaryPort != 0)
                {
                    start.ArgumentList.Add("--primary");
                    start.ArgumentList.Add($"127.0.0.1:{primaryPort}");
                }
                var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                var process = new Process { StartInfo = start };
                // Drain both streams (a full pipe would block the silo); the first "ready:" line tells it has joined.
                process.OutputDataReceived += (_, e) =>
                {
                    if (e.Data is null) ready.TrySetResult("");
                    else if (e.Data.Contains("ready:", StringComparison.Ordinal)) ready.TrySetResult(e.Data);
                    else echo?.WriteLine(e.Data);
                };
                process.ErrorDataReceived += (_, e) =>
                {
                    if (e.Data is not null) echo?.WriteLine(e.Data);
                };
                process.Start();
                silos.processes.Add(process);
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                var line = ready.Task.WaitAsync(TimeSpan.FromMinutes(10)).GetAwaiter().GetResult();
                if (line.Length == 0) throw new CliException($"a silo exited before it was ready: groklens {string.Join(' ', start.ArgumentList.Skip(1))}");
                io.Out.WriteLine($"  {line}");
                if (primaryPort == 0) primaryPort = siloPort;
                gateways.Add($"127.0.0.1:{gatewayPort}");
            }
            silos.Address = string.Join(',', gateways);
            return silos;
        }
        catch
        {
            silos.Dispose();
            throw;
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        foreach (var process in processes)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
            process.Dispose();
        }
    }
}
