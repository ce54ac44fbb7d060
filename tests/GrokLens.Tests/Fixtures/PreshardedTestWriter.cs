using GrokLens.Checkpoints;

namespace GrokLens.Tests.Fixtures;

/// <summary>
/// Writes a Grok-2 safetensors folder in SGLang's pre-sharded layout (tests only): expert w1/w3 split along dim 0 and
/// w2 along dim 1 into <c>model-TP-{rank:03d}.safetensors</c>, everything else in <c>model-TP-common.safetensors</c>.
/// </summary>
internal static class PreshardedTestWriter
{
    public static void Write(string plainFolder, string target, int ranks)
    {
        Directory.CreateDirectory(target);
        File.Copy(Path.Combine(plainFolder, "config.json"), Path.Combine(target, "config.json"));
        using var plain = SafetensorsCheckpoint.Open(plainFolder);
        var common = new List<(string, Tensor)>();
        var perRank = Enumerable.Range(0, ranks).Select(_ => new List<(string, Tensor)>()).ToArray();
        try
        {
            foreach (var name in plain.Names.Order(StringComparer.Ordinal))
            {
                var tensor = plain.Load(name);
                int dim = name.EndsWith(".w2.weight", StringComparison.Ordinal) ? 1
                    : name.EndsWith(".w1.weight", StringComparison.Ordinal) || name.EndsWith(".w3.weight", StringComparison.Ordinal) ? 0 : -1;
                if (dim < 0)
                {
                    common.Add((name, tensor));
                    continue;
                }
                foreach (var (part, rank) in tensor.chunk(ranks, dim).Select((p, r) => (p.contiguous(), r)))
                    perRank[rank].Add((name, part));
                tensor.Dispose();
            }
            SafetensorsWriter.Write(Path.Combine(target, "model-TP-common.safetensors"), common);
            for (int rank = 0; rank < ranks; rank++)
                SafetensorsWriter.Write(Path.Combine(target, $"model-TP-{rank:D3}.safetensors"), perRank[rank]);
        }
        finally
        {
            foreach (var (_, tensor) in common.Concat(perRank.SelectMany(r => r))) tensor.Dispose();
        }
    }
}
