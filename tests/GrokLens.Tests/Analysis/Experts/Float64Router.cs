using GrokLens.Engine;
using GrokLens.Hooks;

namespace GrokLens.Tests.Analysis.Experts;

/// <summary>
/// The router recomputed in float64 with plain loops from the input the model fed it (<c>ln2.hook_normalized</c>): logits
/// x·Wᵀ, Grok-2's cap, softmax, the k most probable experts with their probabilities. The tests' independent reference.
/// </summary>
internal static class Float64Router
{
    /// <summary>[layer][token]: the chosen experts (highest probability first) and their gates.</summary>
    public static (int[] Experts, double[] Gates)[][] Choices(LoadedModel model, IReadOnlyList<int> prompt)
    {
        var config = model.Config;
        var hooks = Enumerable.Range(0, config.NumLayers).Select(l => HookPoints.Layer(l, HookPoints.MoeInput)).ToArray();
        using var run = model.Run(prompt, RunOptions.CaptureOnly(hooks));
        var result = new (int[], double[])[config.NumLayers][];
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            var x = Rows(run.Cache[hooks[layer]]);
            var w = Rows(model.Model.layers[layer].moe.routerWeight.detach());
            result[layer] = x.Select(row => Route(row, w, config.RouterLogitSoftcap, config.TopK)).ToArray();
        }
        return result;
    }

    public static (int[] Experts, double[] Gates) Route(double[] x, double[][] w, double cap, int k)
    {
        var logits = w.Select(row => row.Zip(x, (a, b) => a * b).Sum()).Select(l => cap > 0 ? cap * Math.Tanh(l / cap) : l).ToArray();
        double max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = exp.Sum();
        var top = exp.Select((p, e) => (p: p / sum, e)).OrderByDescending(p => p.p).Take(k).ToArray();
        return (top.Select(t => t.e).ToArray(), top.Select(t => t.p).ToArray());
    }

    public static double[][] Rows(Tensor matrix)
    {
        using var values = matrix.to_type(ScalarType.Float64).cpu().contiguous();
        var flat = values.data<double>().ToArray();
        int columns = (int)matrix.shape[^1];
        return Enumerable.Range(0, flat.Length / columns).Select(r => flat[(r * columns)..((r + 1) * columns)]).ToArray();
    }

    /// <summary>The loss of logits [T, V] on the next tokens, in float64 with loops.</summary>
    public static (double Nats, long Tokens) Loss(Tensor logits, IReadOnlyList<int> tokens)
    {
        var rows = Rows(logits);
        double nats = 0;
        for (int t = 0; t + 1 < tokens.Count; t++)
        {
            double max = rows[t].Max();
            double logSum = max + Math.Log(rows[t].Sum(v => Math.Exp(v - max)));
            nats += logSum - rows[t][tokens[t + 1]];
        }
        return (nats, tokens.Count - 1);
    }
}
