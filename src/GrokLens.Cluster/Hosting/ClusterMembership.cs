using System.Net;

namespace GrokLens.Cluster.Hosting;

/// <summary>
/// How silos find each other and clients find silos: development clustering on one machine (a primary silo keeps the
/// membership table; every silo and client is told its address) or a Redis membership table (any silo may fail).
/// </summary>
public sealed record ClusterMembership
{
    /// <summary>Redis "host:port" holding the membership table (and batch progress); null for development clustering.</summary>
    public string? Redis { get; init; }

    /// <summary>Development clustering: the primary silo's silo-to-silo endpoint; null when this silo is the primary.</summary>
    public IPEndPoint? Primary { get; init; }

    public string ClusterId { get; init; } = ClusterNames.DefaultClusterId;

    /// <summary>
    /// Parses a client's cluster address: "redis://host:port" (Redis membership) or gateway endpoints "host:port[,host:port…]"
    /// (development clustering).
    /// </summary>
    public static (ClusterMembership Membership, IPEndPoint[] Gateways) ParseAddress(string address, string clusterId = ClusterNames.DefaultClusterId)
    {
        address = address.Trim();
        if (address.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
            return (new ClusterMembership { Redis = address["redis://".Length..].TrimEnd('/'), ClusterId = clusterId }, []);
        var gateways = address.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseEndPoint).ToArray();
        if (gateways.Length == 0) throw new FormatException("Give a cluster address: host:port of a silo's gateway, or redis://host:port.");
        return (new ClusterMembership { ClusterId = clusterId }, gateways);
    }

    public static IPEndPoint ParseEndPoint(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out int port) || port is <= 0 or > 65535)
            throw new FormatException($"'{text}' is not host:port.");
        var host = text[..colon];
        var ip = IPAddress.TryParse(host, out var parsed) ? parsed
            : Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
              ?? throw new FormatException($"Host '{host}' has no IPv4 address.");
        return new IPEndPoint(ip, port);
    }
}
