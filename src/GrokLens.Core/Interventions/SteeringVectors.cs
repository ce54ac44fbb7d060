using GrokLens.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>Builds steering vectors from activations.</summary>
public static class SteeringVectors
{
    /// <summary>
    /// mean(activation over the positions of prompts A) − mean(over prompts B) at a hook whose last dimension is the
    /// vector (e.g. <c>blocks.2.hook_resid_post</c>). Each prompt is a list of token ids.
    /// </summary>
    public static float[] MeanDifference(IModelEngine model, string hook,
        IEnumerable<IReadOnlyList<int>> promptsA, IEnumerable<IReadOnlyList<int>> promptsB)
    {
        using var a = MeanActivation(model, hook, promptsA);
        using var b = MeanActivation(model, hook, promptsB);
        using var difference = a - b;
        return difference.data<float>().ToArray();
    }

    private static Tensor MeanActivation(IModelEngine model, string hook, IEnumerable<IReadOnlyList<int>> prompts)
    {
        var sums = new List<Tensor>();
        long count = 0;
        foreach (var prompt in prompts)
        {
            using var run = model.Run(prompt, RunOptions.CaptureOnly(hook));
            var values = run.Cache[hook];
            var rows = values.reshape(-1, values.shape[^1]);
            sums.Add(rows.sum([0]));
            count += rows.shape[0];
        }
        if (count == 0) throw new ArgumentException("give at least one prompt on each side.");
        using var stacked = stack(sums);
        foreach (var s in sums) s.Dispose();
        return stacked.sum([0]) / count;
    }
}
