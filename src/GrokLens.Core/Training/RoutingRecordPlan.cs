using System.Text.Json.Nodes;

namespace GrokLens.Training;

/// <summary>
/// Where and when the <see cref="Trainer"/> records routing (<see cref="Analysis.RoutingHistory"/>): the evaluation
/// windows (token ids), the steps (0 = the initial weights; the last step is always recorded) and facts to store with
/// them.
/// </summary>
public sealed record RoutingRecordPlan(string Folder, IReadOnlyList<int[]> Windows, IReadOnlyList<int> Steps, JsonObject? Description = null)
{
    /// <summary>
    /// About ten steps for a run of <paramref name="totalSteps"/>: the initial weights, then denser early (where routing
    /// changes fastest) — 1, 2.5, 5, 10, 20, 35, 50, 65, 80, 90 and 100 % of the run.
    /// </summary>
    public static IReadOnlyList<int> DefaultSteps(int totalSteps) =>
        new[] { 0.0, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.0 }
            .Select(f => (int)Math.Round(f * totalSteps)).Distinct().ToList();

    /// <summary>
    /// <paramref name="count"/> windows of <paramref name="length"/> tokens spread evenly over each stream (the same
    /// number from each; streams too short give fewer).
    /// </summary>
    public static IReadOnlyList<int[]> EvenWindows(IReadOnlyList<IReadOnlyList<int>> streams, int count, int length)
    {
        var windows = new List<int[]>();
        for (int s = 0; s < streams.Count; s++)
        {
            var ids = streams[s];
            int wanted = count / streams.Count + (s < count % streams.Count ? 1 : 0);
            int fits = ids.Count / length;
            int take = Math.Min(wanted, fits);
            for (int w = 0; w < take; w++)
            {
                int start = (int)((long)w * (fits - 1) / Math.Max(1, take - 1)) * length;
                windows.Add(ids.Skip(start).Take(length).ToArray());
            }
        }
        return windows;
    }
}
