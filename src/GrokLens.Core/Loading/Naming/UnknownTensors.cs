using GrokLens.Checkpoints;
using GrokLens.Model;

namespace GrokLens.Loading.Naming;

/// <summary>
/// Refuses a checkpoint that holds tensors the config does not use: a sign of the wrong config (e.g. a Grok-2 checkpoint
/// read with a Grok-1 config would silently drop its dense MLP). Checked before any weight is read, for every residency.
/// </summary>
public static class UnknownTensors
{
    public static void Refuse(IEnumerable<string> stored, TensorNameTable table, GrokConfig config, string description)
    {
        var expected = table.Expected(GrokModel.Inventory(config).Select(w => w.Id), config.NumExperts);
        var unknown = stored.Where(name => !expected.ContainsKey(name))
            // Tied checkpoints sometimes also store the (identical) output head.
            .Where(name => !(config.TieWordEmbeddings && table.Names(WeightId.Global(WeightKind.OutputHead)).Contains(name)))
            .Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new CheckpointFormatException(description, unknown[0],
                $"not used by the model: {unknown.Count} tensor(s) the config does not account for " +
                $"(e.g. {string.Join(", ", unknown.Take(3))}). Does config.json match the checkpoint?{Hint(unknown, config)}");
    }

    private static string Hint(List<string> unknown, GrokConfig config) =>
        !config.ResidualMoe && unknown.Any(n => n.Contains(".mlp.", StringComparison.Ordinal) || n.Contains("ffn_gate.weight", StringComparison.Ordinal)
                                                 || n.Contains("ffn_up.weight", StringComparison.Ordinal))
            ? " It holds a dense MLP beside the experts (Grok-2): set \"residual_moe\": true and \"intermediate_size\"."
            : "";
}
