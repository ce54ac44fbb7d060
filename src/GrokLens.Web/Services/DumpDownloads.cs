using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace GrokLens.Web.Services;

/// <summary>A sequence a session offers for download: what the download endpoint runs and writes.</summary>
public sealed record DumpDownloadRequest(IReadOnlyList<int> TokenIds, string? Prompt, string ModelName, DateTimeOffset Expires);

/// <summary>
/// Short-lived, unguessable tickets that bind the download endpoint (a plain HTTP GET, outside the Blazor circuit) to
/// one session's current sequence, so the URL carries no token ids and no other session's run can be fetched.
/// </summary>
public sealed class DumpDownloads(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, DumpDownloadRequest> tickets = new(StringComparer.Ordinal);

    public string Create(IReadOnlyList<int> tokenIds, string? prompt, string modelName)
    {
        var now = time.GetUtcNow();
        foreach (var (key, old) in tickets)
            if (old.Expires <= now) tickets.TryRemove(key, out _);
        var ticket = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        tickets[ticket] = new DumpDownloadRequest(tokenIds.ToArray(), prompt, modelName, now + Lifetime);
        return ticket;
    }

    public bool TryGet(string? ticket, out DumpDownloadRequest request)
    {
        request = null!;
        return ticket is not null && tickets.TryGetValue(ticket, out request!) && request.Expires > time.GetUtcNow();
    }
}
