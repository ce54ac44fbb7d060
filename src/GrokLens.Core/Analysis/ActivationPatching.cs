using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Interventions;

namespace GrokLens.Analysis;

/// <summary>
/// A recovery heatmap: Recovery[row][column] = (m_patched − m_corrupted) / (m_clean − m_corrupted), so 1 means the
/// patch restores the clean metric and 0 that it changes nothing. Rows are layers; columns positions or heads.
/// </summary>
public sealed record PatchingHeatmap(string Hook, string ColumnKind, string Metric, double CleanMetric, double CorruptedMetric,
    double[][] Recovery, double[][] PatchedMetric);

/// <summary>Progress of a sweep: runs done out of the total.</summary>
public readonly record struct PatchingProgress(int Done, int Total);

/// <summary>
/// Activation patching sweeps: run the corrupted prompt once per (layer, position) or (layer, head), each time with
/// one slice of the clean run's activation patched in, and record how much of the metric comes back.
/// </summary>
public static class ActivationPatching
{
    /// <summary>
    /// Patches the clean residual stream entering each layer (<c>hook_resid_pre</c>) at one position at a time.
    /// Patching a position at layer 0 is patching its embedding.
    /// </summary>
    public static PatchingHeatmap ResidualStream(IModelEngine model, IReadOnlyList<int> clean, IReadOnlyList<int> corrupted,
        PatchingMetric metric, IProgress<PatchingProgress>? progress = null, CancellationToken cancellation = default) =>
        Sweep(model, clean, corrupted, metric, HookPoints.ResidPre, "position", clean.Count,
            (hook, column) => new PatchActivation(hook, [column]), progress, cancellation);

    /// <summary>Patches each head's clean per-head values (<c>attn.hook_z</c>) at every position, one head at a time.</summary>
    public static PatchingHeatmap Heads(IModelEngine model, IReadOnlyList<int> clean, IReadOnlyList<int> corrupted,
        PatchingMetric metric, IProgress<PatchingProgress>? progress = null, CancellationToken cancellation = default) =>
        Sweep(model, clean, corrupted, metric, HookPoints.Z, "head", model.Config.NumHeads,
            (hook, column) => new PatchActivation(hook, null, [column]), progress, cancellation);

    private static PatchingHeatmap Sweep(IModelEngine model, IReadOnlyList<int> clean, IReadOnlyList<int> corrupted,
        PatchingMetric metric, string suffix, string columnKind, int columns, Func<string, int, PatchActivation> patch,
        IProgress<PatchingProgress>? progress, CancellationToken cancellation)
    {
        if (clean.Count != corrupted.Count)
            throw new ArgumentException($"the clean prompt has {clean.Count} tokens and the corrupted one {corrupted.Count}; " +
                                        "patching needs the same length.");
        model.CheckSequence(clean);
        model.CheckSequence(corrupted);
        metric.Validate(model.Config.VocabSize);
        int layers = model.Config.NumLayers;
        var hooks = Enumerable.Range(0, layers).Select(l => HookPoints.Layer(l, suffix)).ToArray();

        using var cleanRun = model.Run(clean, new RunOptions { Capture = hooks });
        double cleanMetric = metric.Evaluate(cleanRun.Logits);
        double corruptedMetric;
        using (var corruptedRun = model.Run(corrupted)) corruptedMetric = metric.Evaluate(corruptedRun.Logits);
        double range = cleanMetric - corruptedMetric;

        var patched = new double[layers][];
        var recovery = new double[layers][];
        int total = layers * columns, done = 0;
        for (int layer = 0; layer < layers; layer++)
        {
            patched[layer] = new double[columns];
            recovery[layer] = new double[columns];
            for (int column = 0; column < columns; column++)
            {
                cancellation.ThrowIfCancellationRequested();
                using var run = InterventionRunner.Run(model, corrupted, [patch(hooks[layer], column)], source: cleanRun.Cache);
                patched[layer][column] = metric.Evaluate(run.Logits);
                // Clean and corrupted agree on the metric: nothing to recover, report 0 rather than a division by zero.
                recovery[layer][column] = range == 0 ? 0 : (patched[layer][column] - corruptedMetric) / range;
                progress?.Report(new PatchingProgress(++done, total));
            }
        }
        return new PatchingHeatmap(suffix, columnKind, metric.Describe(), cleanMetric, corruptedMetric, recovery, patched);
    }
}
