using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GrokLens.Kernels;

/// <summary>A span of memory to read: e.g. the mapped bytes of one weight matrix.</summary>
public readonly unsafe record struct MemoryRegion(nint Start, long Length)
{
    public static MemoryRegion Of(in Int8Matrix matrix) => new((nint)matrix.Values, matrix.Rows * matrix.RowBytes);
}

/// <summary>
/// The machine's limit for a memory-bound kernel: how long it takes to read given bytes once, split over threads the
/// way the kernels split rows, with the widest vector loads and nothing else. A decode step must read each layer's
/// attention matrices and two experts at least once, so this time for those bytes is the bound its time is compared to.
/// </summary>
public static unsafe class MemoryBandwidth
{
    private static long _sink;

    /// <summary>Median seconds to read every byte of <paramref name="regions"/> once (after one untimed pass that maps pages in).</summary>
    public static double ReadSeconds(IReadOnlyList<MemoryRegion> regions, int threads = 0, int repeats = 5)
    {
        Read(regions, threads);
        var times = new List<double>();
        for (int i = 0; i < Math.Max(1, repeats); i++)
        {
            long start = Stopwatch.GetTimestamp();
            Read(regions, threads);
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Reads every byte of <paramref name="regions"/> once, split over <paramref name="threads"/> (torch's count by default).</summary>
    public static void Read(IReadOnlyList<MemoryRegion> regions, int threads = 0)
    {
        if (regions.Count == 0 || regions.Any(r => r.Length <= 0 || r.Start == 0)) throw new ArgumentException("Regions must be non-empty.", nameof(regions));
        if (threads <= 0) threads = TorchSharp.torch.get_num_threads();
        var starts = new nint[regions.Count];
        var lengths = new long[regions.Count];
        for (int i = 0; i < regions.Count; i++) (starts[i], lengths[i]) = (regions[i].Start, regions[i].Length);
        fixed (nint* s = starts)
        fixed (long* l = lengths)
        {
            var job = new Job(s, l, regions.Count, lengths.Sum());
            KernelThreadPool.Run(threads, &ReadPart, Unsafe.AsPointer(ref job));
        }
    }

    /// <summary>Bytes per second for <see cref="ReadSeconds"/>.</summary>
    public static double BytesPerSecond(IReadOnlyList<MemoryRegion> regions, int threads = 0, int repeats = 5) =>
        regions.Sum(r => r.Length) / ReadSeconds(regions, threads, repeats);

    private readonly struct Job(nint* starts, long* lengths, int count, long total)
    {
        public readonly nint* Starts = starts;
        public readonly long* Lengths = lengths;
        public readonly int Count = count;
        public readonly long Total = total;
    }

    /// <summary>Part p reads bytes [p·total/parts, (p+1)·total/parts) of the regions laid end to end.</summary>
    private static void ReadPart(void* arguments, int part, int parts)
    {
        ref readonly var job = ref Unsafe.AsRef<Job>(arguments);
        long from = job.Total * part / parts, to = job.Total * (part + 1) / parts, offset = 0;
        long sum = 0;
        for (int r = 0; r < job.Count && offset < to; offset += job.Lengths[r], r++)
        {
            long a = Math.Max(from, offset), b = Math.Min(to, offset + job.Lengths[r]);
            if (a < b) sum += Read((byte*)job.Starts[r] + (a - offset), b - a);
        }
        Interlocked.Add(ref _sink, sum);
    }

    /// <summary>Touches every byte with 64-byte loads, four independent chains so loads overlap.</summary>
    private static long Read(byte* p, long length)
    {
        long i = 0;
        long sum = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<byte> a = default, b = default, c = default, d = default;
            for (; i + 256 <= length; i += 256)
            {
                a ^= Vector512.Load(p + i);
                b ^= Vector512.Load(p + i + 64);
                c ^= Vector512.Load(p + i + 128);
                d ^= Vector512.Load(p + i + 192);
            }
            sum = (long)(a ^ b ^ c ^ d).AsUInt64().GetElement(0);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<byte> a = default, b = default, c = default, d = default;
            for (; i + 128 <= length; i += 128)
            {
                a ^= Vector256.Load(p + i);
                b ^= Vector256.Load(p + i + 32);
                c ^= Vector256.Load(p + i + 64);
                d ^= Vector256.Load(p + i + 96);
            }
            sum = (long)(a ^ b ^ c ^ d).AsUInt64().GetElement(0);
        }
        for (; i < length; i++) sum += p[i];
        return sum;
    }
}
