using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace GrokLens.Web.Services;

/// <summary>
/// One run of a download: its id in the dump, tokens, prompt, the interventions applied (recorded in the manifest) and,
/// for patching interventions, the tokens of the source run they read.
/// </summary>
public sealed record DumpDownloadRun(string Id, IReadOnlyList<int> TokenIds, string? Prompt, IReadOnlyList<GrokLens.Interventions.Intervention> Interventions,
    IReadOnlyList<int>? SourceTokenIds = null);

/// <summary>
/// The runs a session offers for download (the current sequence, or a comparison's two runs) and the model that made them:
/// what the endpoint runs and writes.
/// </summary>
public sealed record DumpDownloadRequest(IReadOnlyList<DumpDownloadRun> Runs, GrokLens.Web.Models.IWorkbenchModel Model, DateTimeOffset Expires);

/// <summary>
/// Short-lived, unguessable tickets that bind the download endpoint (a plain HTTP GET, outside the Blazor circuit) to
/// one session's runs, so the URL carries no token ids and no other session's run can be fetched.
/// </summary>
public sealed class DumpDownloads(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, DumpDownloadRequest> tickets = new(StringComparer.Ordinal);

    public string Create(IReadOnlyList<DumpDownloadRun> runs, GrokLens.Web.Models.IWorkbenchModel model)
    {
        if (runs.Count == 0) throw new ArgumentException("A download needs at least one run.");
        var now = time.GetUtcNow();
        foreach (var (key, old) in tickets)
            if (old.Expires <= now) tickets.TryRemove(key, out _);
        var ticket = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        tickets[ticket] = new DumpDownloadRequest(runs.ToArray(), model, now + Lifetime);
        return ticket;
    }

    public bool TryGet(string? ticket, out DumpDownloadRequest request)
    {
        request = null!;
        return ticket is not null && tickets.TryGetValue(ticket, out request!) && request.Expires > time.GetUtcNow();
    }
}
