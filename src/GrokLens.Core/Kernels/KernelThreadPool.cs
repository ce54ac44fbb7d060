namespace GrokLens.Kernels;

/// <summary>
/// Runs one job split over a few threads with less overhead than Parallel.For (no allocation, no task scheduling):
/// part 0 runs on the caller, parts 1…n−1 on dedicated background threads that wait for work by spinning briefly,
/// then sleeping. A decode step calls a kernel every few microseconds, so waking a sleeping pool thread each time would
/// cost more than the kernel. One job runs at a time; a caller that finds the pool busy runs its parts itself.
/// </summary>
internal static unsafe class KernelThreadPool
{
    /// <summary>How long an idle worker spins before sleeping.</summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 20_000; // 50 µs

    private static readonly object Gate = new();
    private static readonly List<Worker> Workers = [];
    private static delegate*<void*, int, int, void> _work;
    private static void* _arguments;
    private static int _parts;
    private static int _pending;
    private static Exception? _failure;

    /// <summary>Calls work(arguments, part, parts) for part = 0…parts−1, in parallel, and returns when all are done.</summary>
    public static void Run(int parts, delegate*<void*, int, int, void> work, void* arguments)
    {
        if (parts <= 1 || !Monitor.TryEnter(Gate))
        {
            for (int part = 0; part < Math.Max(1, parts); part++) work(arguments, part, Math.Max(1, parts));
            return;
        }
        try
        {
            while (Workers.Count < parts - 1) Workers.Add(new Worker(Workers.Count + 1));
            _work = work;
            _arguments = arguments;
            _parts = parts;
            _failure = null;
            Volatile.Write(ref _pending, parts - 1);
            for (int i = 0; i < parts - 1; i++) Workers[i].Start();
            work(arguments, 0, parts);
            var spinner = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spinner.SpinOnce(sleep1Threshold: -1);
            if (_failure is { } failure) throw new AggregateException("An int8 kernel thread failed.", failure);
        }
        finally
        {
            Monitor.Exit(Gate);
        }
    }

    private sealed class Worker
    {
        private readonly int _part;
        private readonly SemaphoreSlim _sleeping = new(0);
        private int _generation;
        private int _seen;

        public Worker(int part)
        {
            _part = part;
            new Thread(Loop) { IsBackground = true, Name = $"int8 kernel {part}" }.Start();
        }

        public void Start()
        {
            Interlocked.Increment(ref _generation);
            if (_sleeping.CurrentCount == 0) _sleeping.Release();
        }

        private void Loop()
        {
            while (true)
            {
                WaitForJob();
                _seen = Volatile.Read(ref _generation);
                try
                {
                    _work(_arguments, _part, _parts);
                }
                catch (Exception e)
                {
                    _failure = e;
                }
                Interlocked.Decrement(ref _pending);
            }
        }

        private void WaitForJob()
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var spinner = new SpinWait();
            while (Volatile.Read(ref _generation) == _seen)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() - start < SpinTicks) spinner.SpinOnce(sleep1Threshold: -1);
                else _sleeping.Wait();
            }
        }
    }
}
