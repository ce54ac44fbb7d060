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
/// what the endpoint runs and writes; <see cref="SessionKey"/> is the browser session that may fetch it.
/// </summary>
public sealed record DumpDownloadRequest(IReadOnlyList<DumpDownloadRun> Runs, GrokLens.Web.Models.IWorkbenchModel Model, string SessionKey,
    DateTimeOffset Expires);

/// <summary>
/// Short-lived, unguessable, single-use tickets that bind the download endpoint (a plain HTTP GET, outside the Blazor
/// circuit) to one session's runs: the URL carries no token ids, only the browser session that made the ticket
/// (its session cookie) can use it, and only once.
/// </summary>
public sealed class DumpDownloads(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, DumpDownloadRequest> tickets = new(StringComparer.Ordinal);

    public string Create(IReadOnlyList<DumpDownloadRun> runs, GrokLens.Web.Models.IWorkbenchModel model, string sessionKey)
    {
        if (runs.Count == 0) throw new ArgumentException("A download needs at least one run.");
        ArgumentException.ThrowIfNullOrEmpty(sessionKey);
        var now = time.GetUtcNow();
        foreach (var (key, old) in tickets)
            if (old.Expires <= now) tickets.TryRemove(key, out _);
        var ticket = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        tickets[ticket] = new DumpDownloadRequest(runs.ToArray(), model, sessionKey, now + Lifetime);
        return ticket;
    }

    /// <summary>Why a ticket cannot be used by this session, or null when it can (it stays valid until <see cref="TryTake"/>).</summary>
    public string? Problem(string? ticket, string? sessionKey)
    {
        if (ticket is null || !tickets.TryGetValue(ticket, out var request) || request.Expires <= time.GetUtcNow())
            return "This download link is unknown, used or expired: open the download dialog again.";
        return sessionKey is not null && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(request.SessionKey), System.Text.Encoding.ASCII.GetBytes(sessionKey))
            ? null
            : "This download link belongs to another browser session: open the download dialog in this one.";
    }

    /// <summary>The request of a ticket this session may use, without taking it (e.g. to check hook patterns first).</summary>
    public DumpDownloadRequest? Peek(string? ticket, string? sessionKey) =>
        Problem(ticket, sessionKey) is null && tickets.TryGetValue(ticket!, out var request) ? request : null;

    /// <summary>Takes the ticket (it cannot be used again) when this session may use it.</summary>
    public bool TryTake(string? ticket, string? sessionKey, out DumpDownloadRequest request)
    {
        request = null!;
        return Problem(ticket, sessionKey) is null && tickets.TryRemove(ticket!, out request!);
    }
}
