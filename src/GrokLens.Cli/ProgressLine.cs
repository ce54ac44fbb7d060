namespace GrokLens.Cli;

/// <summary>
/// A progress report drawn on one stderr line ("[#####-----] 12/100 … · ETA 0:01:23"), redrawn at most 5 times a second
/// and always when finished; <see cref="End"/> leaves the last state on its own line.
/// </summary>
internal sealed class ProgressLine<T>(TextWriter error, Func<T, string> render, Func<T, bool> finished) : IProgress<T>
    where T : class
{
    private DateTime lastDraw = DateTime.MinValue;
    private T? last;

    public void Report(T value)
    {
        last = value;
        if (!finished(value) && DateTime.UtcNow - lastDraw < TimeSpan.FromMilliseconds(200)) return;
        lastDraw = DateTime.UtcNow;
        error.Write("\r" + render(value));
        error.Flush();
    }

    public void End()
    {
        if (last is not null) error.WriteLine("\r" + render(last));
    }

    /// <summary>A 24-character bar of <paramref name="done"/> out of <paramref name="total"/>.</summary>
    public static string Bar(long done, long total)
    {
        const int width = 24;
        int filled = total == 0 ? width : (int)(width * done / total);
        return $"[{new string('#', filled)}{new string('-', width - filled)}]";
    }

    /// <summary>Time left at the pace so far: "h:mm:ss", "done", or "–" before anything is done.</summary>
    public static string Eta(TimeSpan elapsed, long done, long total) =>
        done >= total ? "done" : done > 0 ? TimeSpan.FromSeconds(elapsed.TotalSeconds / done * (total - done)).ToString(@"h\:mm\:ss") : "–";
}
