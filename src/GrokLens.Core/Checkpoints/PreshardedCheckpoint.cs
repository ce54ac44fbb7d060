using System.Globalization;
using System.Text.RegularExpressions;
using TorchSharp;

namespace GrokLens.Checkpoints;

/// <summary>
/// SGLang's pre-sharded layout of xai-org/grok-2 (SPEC §6.3.8): <c>*-TP-common.safetensors</c> hold every tensor that is
/// not split, and <c>*-TP-{rank:03d}.safetensors</c> hold each rank's slice of every expert matrix: w1 and w3 split along
/// dim 0, w2 along dim 1. This source shows the joined tensors under their plain names and joins one tensor at a time,
/// only when it is read, so no more than one joined tensor is ever in memory.
/// </summary>
public sealed partial class PreshardedCheckpoint : ITensorSource
{
    private readonly List<SafetensorsFile> files;
    private readonly Dictionary<string, SafetensorsFile> common;
    private readonly Dictionary<string, SafetensorsFile>[] ranks;
    private readonly Dictionary<string, SafetensorsTensorInfo> joined;

    private PreshardedCheckpoint(string folder, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> common,
        Dictionary<string, SafetensorsFile>[] ranks, Dictionary<string, SafetensorsTensorInfo> joined)
    {
        Description = folder;
        this.files = files;
        this.common = common;
        this.ranks = ranks;
        this.joined = joined;
        Names = common.Keys.Concat(joined.Keys).ToList();
    }

    public string Description { get; }
    public IReadOnlyCollection<string> Names { get; }
    public IReadOnlyList<SafetensorsFile> Files => files;

    /// <summary>Number of tensor-parallel ranks the experts are split over.</summary>
    public int RankCount => ranks.Length;

    [GeneratedRegex(@"-TP-(common|\d{3})\.safetensors$")]
    private static partial Regex ShardName();

    /// <summary>True if the folder holds the pre-sharded layout (a <c>*-TP-common.safetensors</c> file).</summary>
    public static bool IsPresharded(string folder) =>
        Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*-TP-common.safetensors").Any();

    public static PreshardedCheckpoint Open(string folder)
    {
        folder = Path.GetFullPath(folder);
        var opened = new List<SafetensorsFile>();
        try
        {
            var common = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            var byRank = new SortedDictionary<int, Dictionary<string, SafetensorsFile>>();
            foreach (var path in Directory.GetFiles(folder, "*.safetensors").Order(StringComparer.Ordinal))
            {
                var match = ShardName().Match(Path.GetFileName(path));
                if (!match.Success)
                    throw new CheckpointFormatException(path, null, "a pre-sharded checkpoint holds only *-TP-common and *-TP-NNN safetensors files");
                var file = SafetensorsFile.Open(path);
                opened.Add(file);
                var target = match.Groups[1].Value == "common"
                    ? common
                    : byRank.TryGetValue(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), out var rank)
                        ? rank
                        : byRank[int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)] = new(StringComparer.Ordinal);
                foreach (var name in file.Names)
                    if (!target.TryAdd(name, file))
                        throw new CheckpointFormatException(path, name, "the tensor is stored twice among the files of one rank (or of the common part)");
            }
            if (byRank.Count == 0 || byRank.Keys.First() != 0 || byRank.Keys.Last() != byRank.Count - 1)
                throw new CheckpointFormatException(folder, null,
                    $"the ranks' files must be numbered 000…{byRank.Count - 1:D3} without gaps (found {string.Join(", ", byRank.Keys.Select(r => r.ToString("D3", CultureInfo.InvariantCulture)))})");
            var ranks = byRank.Values.ToArray();
            var joined = JoinedInfos(folder, common, ranks);
            return new PreshardedCheckpoint(folder, opened, common, ranks, joined);
        }
        catch
        {
            opened.ForEach(f => f.Dispose());
            throw;
        }
    }

    /// <summary>The shape of every split tensor once joined, checked to be split the same way on every rank.</summary>
    private static Dictionary<string, SafetensorsTensorInfo> JoinedInfos(string folder, Dictionary<string, SafetensorsFile> common,
        Dictionary<string, SafetensorsFile>[] ranks)
    {
        var joined = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        foreach (var name in ranks[0].Keys)
        {
            if (common.ContainsKey(name))
                throw new CheckpointFormatException(folder, name, "the tensor is both in the common files and split over the ranks");
            int dim = SplitDimension(folder, name);
            var parts = ranks.Select((rank, r) => rank.TryGetValue(name, out var file)
                ? file.Info(name)
                : throw new CheckpointFormatException(folder, name, $"rank {r:D3} lacks its slice of this tensor")).ToList();
            var first = parts[0];
            if (first.Shape.Length != 2 || parts.Any(p => p.DType != first.DType || !p.Shape.SequenceEqual(first.Shape)))
                throw new CheckpointFormatException(folder, name, "its slices must be 2-D with the same shape and dtype on every rank");
            var shape = first.Shape.ToArray();
            shape[dim] = checked(shape[dim] * ranks.Length);
            joined[name] = new SafetensorsTensorInfo(name, first.DType, shape, 0, parts.Sum(p => p.ByteLength));
        }
        foreach (var (rank, r) in ranks.Select((rank, r) => (rank, r)))
            if (rank.Keys.FirstOrDefault(n => !joined.ContainsKey(n)) is { } extra)
                throw new CheckpointFormatException(folder, extra, $"only rank {r:D3} holds a slice of this tensor");
        return joined;
    }

    /// <summary>SGLang splits w1 (gate) and w3 (up) along their output rows, w2 (down) along its input columns.</summary>
    private static int SplitDimension(string folder, string name) =>
        name.EndsWith(".w2.weight", StringComparison.Ordinal) ? 1
        : name.EndsWith(".w1.weight", StringComparison.Ordinal) || name.EndsWith(".w3.weight", StringComparison.Ordinal) ? 0
        : throw new CheckpointFormatException(folder, name,
            "only expert matrices (w1, w2, w3) may be split over ranks; a checkpoint with pre-sharded attention, MLP or embedding is not supported");

    public bool Contains(string name) => common.ContainsKey(name) || joined.ContainsKey(name);

    public SafetensorsTensorInfo Info(string name) =>
        common.TryGetValue(name, out var file) ? file.Info(name)
        : joined.TryGetValue(name, out var info) ? info
        : throw new CheckpointFormatException(Description, name, "no such tensor in this checkpoint");

    public torch.Tensor Load(string name, torch.Device? device = null) =>
        common.TryGetValue(name, out var file) ? file.Load(name, device) : Join(name, device, float32: false);

    public torch.Tensor LoadFloat32(string name, torch.Device? device = null) =>
        common.TryGetValue(name, out var file) ? file.LoadFloat32(name, device) : Join(name, device, float32: true);

    /// <summary>Reads each rank's slice into its place in one tensor: the joined tensor plus one slice at a time.</summary>
    private torch.Tensor Join(string name, torch.Device? device, bool float32)
    {
        var info = Info(name);
        int dim = SplitDimension(Description, name);
        long slice = info.Shape[dim] / ranks.Length;
        var result = torch.empty(info.Shape, dtype: float32 ? torch.ScalarType.Float32 : info.DType.ToScalarType(), device: device ?? torch.CPU);
        try
        {
            using var noGrad = torch.no_grad();
            for (int r = 0; r < ranks.Length; r++)
            {
                using var part = float32 ? ranks[r][name].LoadFloat32(name, device) : ranks[r][name].Load(name, device);
                using var target = result.narrow(dim, r * slice, slice);
                target.copy_(part);
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    public void Dispose() => files.ForEach(f => f.Dispose());
}
