using System.Diagnostics;

namespace GrokLens.Loading.Placement;

/// <summary>Free memory per device for <see cref="DeviceMap.Auto"/>: GPUs first (as nvidia-smi reports them), then the CPU.</summary>
public static class DeviceMemory
{
    /// <summary>Share of each device left free for activations, the KV cache and the allocator.</summary>
    public const double Headroom = 0.1;

    public static IReadOnlyList<(string Device, long Capacity)> Available()
    {
        var devices = new List<(string, long)>();
        if (TorchSharp.torch.cuda.is_available())
        {
            var free = NvidiaSmiFreeBytes();
            for (int gpu = 0; gpu < free.Count; gpu++) devices.Add(($"cuda:{gpu}", (long)(free[gpu] * (1 - Headroom))));
        }
        devices.Add(("cpu", (long)(CpuAvailableBytes() * (1 - Headroom))));
        return devices;
    }

    /// <summary>MemAvailable from /proc/meminfo, else what the GC reports as available.</summary>
    public static long CpuAvailableBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
        }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    private static List<long> NvidiaSmiFreeBytes()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=memory.free --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            var lines = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            process.WaitForExit();
            return lines.Select(l => long.Parse(l.Trim()) * 1024 * 1024).ToList();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or FormatException)
        {
            return []; // No nvidia-smi: give a --device-map by hand.
        }
    }
}
