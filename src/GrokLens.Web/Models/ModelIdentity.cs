using System.Security.Cryptography;
using System.Text;

namespace GrokLens.Web.Models;

/// <summary>
/// Which model a result came from: its name in the catalogue and a stamp of its files (relative paths, sizes and
/// modification times). A result bound to a model that was unloaded since may use a reload of the same name only when
/// the stamp is unchanged, i.e. the same weights.
/// </summary>
public sealed record ModelIdentity(string Name, string Stamp)
{
    public static ModelIdentity Of(string name, string folder)
    {
        var lines = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(path => new FileInfo(path))
            .Select(file => $"{Path.GetRelativePath(folder, file.FullName)}\t{file.Length}\t{file.LastWriteTimeUtc.Ticks}")
            .Order(StringComparer.Ordinal);
        return new ModelIdentity(name, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines))))[..16]);
    }
}
