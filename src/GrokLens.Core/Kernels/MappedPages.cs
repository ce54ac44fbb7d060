using System.Runtime.InteropServices;

namespace GrokLens.Kernels;

/// <summary>
/// Asks the kernel to read memory-mapped pages ahead (madvise MADV_WILLNEED): streaming starts the next layer's reads
/// from disk in the background without copying them anywhere; pages already in the page cache cost nothing.
/// </summary>
public static partial class MappedPages
{
    private const int WillNeedAdvice = 3; // MADV_WILLNEED on Linux

    /// <summary>Starts reading the pages of <paramref name="region"/>; a no-op where madvise is not available.</summary>
    public static void WillNeed(MemoryRegion region)
    {
        if (!OperatingSystem.IsLinux() || region.Length <= 0) return;
        long page = Environment.SystemPageSize;
        long start = region.Start / page * page;
        _ = madvise((nint)start, (nuint)(region.Start + region.Length - start), WillNeedAdvice); // advice only: failure is harmless
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);
}
