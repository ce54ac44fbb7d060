using System.Collections.Concurrent;
using System.Diagnostics;

namespace GrokLens.Cluster;

/// <summary>
/// Opt-in timing of a single pass through the cluster: with <c>GROKLENS_CLUSTER_TRACE=folder</c> set (client and silos),
/// each process appends <c>timestamp-ns pid session stage thread</c> lines to <c>folder/pid.log</c> about twice a second.
/// Timestamps come from the monotonic clock, which processes on one machine share, so a pass's stages line up across the
/// client and its silos (docs/cluster.md, "Measured"). Unset, a mark costs one static read.
/// </summary>
public static class ClusterTrace
{
    private static readonly string? Folder = Environment.GetEnvironmentVariable("GROKLENS_CLUSTER_TRACE") is { Length: > 0 } folder ? folder : null;
    private static readonly ConcurrentQueue<string> Lines = new();
    private static readonly Timer? Writer = Folder is null ? null : new Timer(_ => Flush(), null, 500, 500);

    public static void Mark(Guid session, string stage)
    {
        if (Folder is null) return;
        Lines.Enqueue($"{Stopwatch.GetTimestamp() * (1_000_000_000 / Stopwatch.Frequency)} {Environment.ProcessId} {session:N} {stage} {Environment.CurrentManagedThreadId}");
    }

    private static void Flush()
    {
        var text = new System.Text.StringBuilder();
        while (Lines.TryDequeue(out var line)) text.AppendLine(line);
        if (text.Length > 0 && Writer is not null) File.AppendAllText(Path.Combine(Folder!, $"{Environment.ProcessId}.log"), text.ToString());
    }
}
