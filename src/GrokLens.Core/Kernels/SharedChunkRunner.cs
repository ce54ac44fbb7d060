using System.Runtime.ExceptionServices;

namespace GrokLens.Kernels;

/// <summary>
/// Runs a job's chunks on the caller while helper threads take chunks too when they get a core. Unlike
/// <see cref="KernelThreadPool"/>, which hands each thread a fixed part and waits for all of them, the caller never waits
/// for a helper that has not started: on a busy machine a woken thread may get a core only milliseconds later, which
/// made a split 16384×256 product of a decode step (≈ 0.6 ms on one core) take 2–3 ms. The caller waits only for chunks
/// a helper is already running. Chunks are claimed with a compare-and-swap on (job generation, next chunk), so a helper
/// that arrives after its job ended claims nothing. One job runs at a time; a caller that finds it busy runs alone.
/// </summary>
internal static unsafe class SharedChunkRunner
{
    /// <summary>How long an idle helper spins before sleeping: decode steps call in every few microseconds.</summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 10_000; // 100 µs

    private static readonly object Gate = new();
    private static readonly List<Helper> Helpers = [];
    private static long _claim; // generation << 32 | next chunk
    private static int _done;
    private static int _chunks;
    private static delegate*<void*, int, void> _work;
    private static void* _arguments;
    private static Exception? _failure;

    /// <summary>Calls work(arguments, chunk) for chunk = 0…chunks−1, with up to <paramref name="helpers"/> other threads.</summary>
    public static void Run(int chunks, int helpers, delegate*<void*, int, void> work, void* arguments)
    {
        if (chunks <= 0) return;
        if (helpers <= 0 || chunks == 1 || !Monitor.TryEnter(Gate))
        {
            for (int chunk = 0; chunk < chunks; chunk++) work(arguments, chunk);
            return;
        }
        try
        {
            while (Helpers.Count < helpers) Helpers.Add(new Helper(Helpers.Count + 1));
            // Close the claims first (a new generation with no chunk left), so a helper still holding the last job's claim
            // cannot swap it into one of this job's chunks while the fields change; open them once the fields are set.
            long generation = (Volatile.Read(ref _claim) >> 32) + 1;
            Volatile.Write(ref _claim, generation << 32 | int.MaxValue);
            _work = work;
            _arguments = arguments;
            _failure = null;
            Volatile.Write(ref _chunks, chunks);
            Volatile.Write(ref _done, 0);
            Volatile.Write(ref _claim, generation << 32);
            for (int i = 0; i < helpers; i++) Helpers[i].Wake();

            int mine = 0;
            while (true)
            {
                int chunk = (int)(Interlocked.Increment(ref _claim) & 0xFFFF_FFFF) - 1;
                if (chunk >= chunks) break;
                RunChunk(work, arguments, chunk);
                mine++;
            }
            Interlocked.Add(ref _done, mine);
            // Even after a failure, wait for the helpers' chunks: they use the caller's arguments.
            var spinner = new SpinWait();
            while (Volatile.Read(ref _done) < chunks) spinner.SpinOnce(sleep1Threshold: -1);
            if (_failure is { } failure) ExceptionDispatchInfo.Throw(failure);
        }
        finally
        {
            Monitor.Exit(Gate);
        }
    }

    /// <summary>Claims and runs chunks of the current job until none are left or another job has begun.</summary>
    private static void HelpWithCurrentJob()
    {
        while (true)
        {
            long claim = Volatile.Read(ref _claim);
            int chunk = (int)(claim & 0xFFFF_FFFF);
            // _chunks, _work, _arguments belong to this claim's job unless the job ended, and then the swap below fails.
            int chunks = Volatile.Read(ref _chunks);
            var work = _work;
            void* arguments = _arguments;
            if (chunk >= chunks) return;
            if (Interlocked.CompareExchange(ref _claim, claim + 1, claim) != claim) continue;
            RunChunk(work, arguments, chunk);
            Interlocked.Increment(ref _done);
        }
    }

    /// <summary>Runs one chunk; the job's first failure is kept for the caller to throw once every chunk has ended.</summary>
    private static void RunChunk(delegate*<void*, int, void> work, void* arguments, int chunk)
    {
        try
        {
            work(arguments, chunk);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
        }
    }

    private sealed class Helper
    {
        private readonly SemaphoreSlim _sleeping = new(0);
        private int _wakes;

        public Helper(int index) => new Thread(Loop) { IsBackground = true, Name = $"shared chunks {index}" }.Start();

        public void Wake()
        {
            Interlocked.Increment(ref _wakes);
            if (_sleeping.CurrentCount == 0) _sleeping.Release();
        }

        private void Loop()
        {
            int seen = 0;
            while (true)
            {
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                var spinner = new SpinWait();
                while (Volatile.Read(ref _wakes) == seen)
                {
                    if (System.Diagnostics.Stopwatch.GetTimestamp() - start < SpinTicks) spinner.SpinOnce(sleep1Threshold: -1);
                    else _sleeping.Wait();
                }
                seen = Volatile.Read(ref _wakes);
                HelpWithCurrentJob();
            }
        }
    }
}
