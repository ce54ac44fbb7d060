using System.Diagnostics;
using System.Runtime.InteropServices;

namespace GrokLens.Kernels;

/// <summary>
/// CPU seconds this process has used (all threads, user + system). On a machine shared with other jobs a bench's wall
/// time includes waiting for a core; its CPU time does not. Linux's getrusage counts in microseconds
/// (Process.TotalProcessorTime reads /proc in 10 ms ticks, too coarse for one bench sample).
/// </summary>
public static partial class ProcessCpuTime
{
    public static double Seconds()
    {
        if (OperatingSystem.IsLinux() && getrusage(0, out var usage) == 0)
            return usage.UserSeconds + usage.UserMicroseconds * 1e-6 + usage.SystemSeconds + usage.SystemMicroseconds * 1e-6;
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>The head of Linux's struct rusage (two struct timeval); the 14 longs after them are not read.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        private unsafe fixed long _rest[14];
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrusage(int who, out RUsage usage);
}
