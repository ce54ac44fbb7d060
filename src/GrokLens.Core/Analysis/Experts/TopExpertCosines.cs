using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// A reduction for the per-expert logit lens (MoE Lens): per layer, the cosine between the top-weighted expert's gated
/// output and the whole routed MoE output (<c>hook_moe_out</c>), summed over tokens. Two cosines: in the MoE's output
/// space, and in the residual stream, i.e. after the post-MoE RMSNorm's per-channel scale g (the vectors a layer adds to
/// the residual are g ⊙ x·s; the common factor s cancels). Computed by hooks as the layer runs.
/// </summary>
public sealed class TopExpertCosines : IForwardObserver
{
    private readonly double[][]? postNormScales;
    private readonly bool[] observed;
    private readonly Tensor?[] gates;
    private readonly Tensor?[] outputs;

    /// <param name="layers">Layers of the model.</param>
    /// <param name="postNormScales">Each layer's post-MoE RMSNorm weight [D] (the model's <c>postMoeNorm.weight</c>), or null when unknown.</param>
    public TopExpertCosines(int layers, IReadOnlyList<Tensor>? postNormScales)
    {
        Layers = layers;
        this.postNormScales = postNormScales?.Select(w =>
        {
            using var scale = w.detach().to_type(ScalarType.Float64).cpu();
            return scale.data<double>().ToArray();
        }).ToArray();
        if (this.postNormScales is not null && this.postNormScales.Length != layers)
            throw new ArgumentException($"{this.postNormScales.Length} post-MoE norm scales for {layers} layers.");
        observed = new bool[layers];
        CosineSum = new double[Layers];
        ResidualCosineSum = new double[Layers];
        Tokens = new long[Layers];
        gates = new Tensor?[Layers];
        outputs = new Tensor?[Layers];
    }

    public int Layers { get; }

    /// <summary>[layer]: Σ cos(top expert's gated output, MoE output).</summary>
    public double[] CosineSum { get; }

    /// <summary>[layer]: the same cosine after the post-MoE norm's scale (residual-stream directions).</summary>
    public double[] ResidualCosineSum { get; }

    /// <summary>[layer]: tokens summed.</summary>
    public long[] Tokens { get; }

    public IReadOnlyList<string> Captures => [];

    public IReadOnlyList<string> FallbackCaptures =>
        Enumerable.Range(0, Layers).SelectMany(l => new[]
        {
            HookPoints.Layer(l, HookPoints.TopKWeights), HookPoints.Layer(l, HookPoints.ExpertOut), HookPoints.Layer(l, HookPoints.MoeOut),
        }).ToList();

    public IEnumerable<(string HookName, HookFunction Function)> Hooks()
    {
        for (int l = 0; l < Layers; l++)
        {
            int layer = l;
            // The gates and expert outputs live until the layer ends, after hook_moe_out: holding them until then is safe.
            yield return (HookPoints.Layer(layer, HookPoints.TopKWeights), (w, _) => { gates[layer] = w; return null; });
            yield return (HookPoints.Layer(layer, HookPoints.ExpertOut), (o, _) => { outputs[layer] = o; return null; });
            yield return (HookPoints.Layer(layer, HookPoints.MoeOut), (moe, _) =>
            {
                Observe(layer, gates[layer]!, outputs[layer]!, moe);
                gates[layer] = outputs[layer] = null;
                observed[layer] = true;
                return null;
            });
        }
    }

    private void Observe(int layer, Tensor gate, Tensor output, Tensor moe)
    {
        using var scope = NewDisposeScope();
        var (raw, residual) = Compute(gate.reshape(-1, gate.shape[^1]), output.reshape(-1, output.shape[^2], output.shape[^1]),
            moe.reshape(-1, moe.shape[^1]), postNormScales is null ? null : tensor(postNormScales[layer]));
        CosineSum[layer] += raw.sum().item<double>();
        ResidualCosineSum[layer] += residual.sum().item<double>();
        Tokens[layer] += raw.shape[0];
    }

    /// <summary>
    /// Per token, the cosine of the top-weighted slot's gated output with the MoE output, raw and after the post-MoE norm's
    /// scale <paramref name="g"/> [D] (NaN without it). <paramref name="gates"/> [N, k], <paramref name="outputs"/> [N, k, D],
    /// <paramref name="moe"/> [N, D]; computed in float64 on the CPU.
    /// </summary>
    public static (Tensor Raw, Tensor Residual) Compute(Tensor gates, Tensor outputs, Tensor moe, Tensor? g)
    {
        var w = gates.to_type(ScalarType.Float64).cpu();
        var o = outputs.to_type(ScalarType.Float64).cpu();
        var m = moe.to_type(ScalarType.Float64).cpu();
        var top = w.argmax(-1, keepdim: true);                                                           // [N, 1]
        var topOutput = o.gather(1, top.unsqueeze(-1).expand(-1, 1, o.shape[2])).squeeze(1) * w.gather(1, top);
        var raw = Cosines(topOutput, m);
        if (g is null) return (raw, full_like(raw, double.NaN));
        var scale = g.to_type(ScalarType.Float64).cpu();
        return (raw, Cosines(topOutput * scale, m * scale));
    }

    /// <summary>Row-wise cosine similarity of [N, D] matrices (0 where a row is zero).</summary>
    internal static Tensor Cosines(Tensor a, Tensor b)
    {
        var norms = a.square().sum(-1).sqrt() * b.square().sum(-1).sqrt();
        return (a * b).sum(-1) / norms.clamp_min(1e-300);
    }

    public void EndRun(ActivationCache cache)
    {
        for (int layer = 0; layer < Layers; layer++)
        {
            if (!observed[layer])
                Observe(layer, cache[HookPoints.Layer(layer, HookPoints.TopKWeights)], cache[HookPoints.Layer(layer, HookPoints.ExpertOut)],
                    cache[HookPoints.Layer(layer, HookPoints.MoeOut)]);
            observed[layer] = false;
        }
    }

    public void Add(TopExpertCosines other)
    {
        for (int layer = 0; layer < Layers; layer++)
        {
            CosineSum[layer] += other.CosineSum[layer];
            ResidualCosineSum[layer] += other.ResidualCosineSum[layer];
            Tokens[layer] += other.Tokens[layer];
        }
    }
}
