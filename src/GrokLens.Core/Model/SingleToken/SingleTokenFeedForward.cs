using GrokLens.Kernels;

namespace GrokLens.Model.SingleToken;

/// <summary>
/// <see cref="GrokMoE"/> (and Grok-2's dense MLP, <see cref="GrokMlp"/>) for one token: router logits, Grok-2's soft-cap,
/// softmax, the top-k experts by probability with their raw probabilities as gates; each chosen expert's matrices are
/// multiplied directly (no counting, sorting or scattering) and Σ gate·expert output is formed in slot order. Reads
/// <see cref="DecodeWorkspace.Normed"/> and writes the feed-forward output to <see cref="DecodeWorkspace.FeedForward"/>.
/// </summary>
internal static unsafe class SingleTokenFeedForward
{
    public static void Run(GrokConfig config, DecodeWeights.LayerWeights w, DecodeWorkspace ws, int threads)
    {
        int hidden = config.HiddenSize, experts = config.NumExperts, width = config.ExpertSize;
        FloatGemv.Multiply(w.Router, experts, hidden, ws.Normed, ws.Router, threads);
        TokenVectorMath.SoftCap(ws.Router, experts, (float)config.RouterLogitSoftcap);
        TokenVectorMath.Softmax(ws.Router, experts);

        float* output = ws.FeedForward;
        new Span<float>(output, hidden).Clear();
        Span<bool> taken = stackalloc bool[experts];
        long gateSize = (long)width * hidden;
        for (int slot = 0; slot < config.TopK; slot++)
        {
            int expert = MostLikelyUntaken(ws.Router, taken);
            taken[expert] = true;
            GatedUnit(w.ExpertGate + expert * gateSize, w.ExpertUp + expert * gateSize, w.ExpertDown + expert * gateSize,
                width, hidden, ws, threads);
            TokenVectorMath.AddScaled(output, ws.Expert, ws.Router[expert], hidden);
        }

        if (w.DenseGate != null)
        {
            // Grok-2's residual MoE: (MLP(m) + MoE(m))/√2.
            GatedUnit(w.DenseGate, w.DenseUp, w.DenseDown, config.DenseSize, hidden, ws, threads);
            float rootTwo = (float)Math.Sqrt(2);
            for (int i = 0; i < hidden; i++) output[i] = (ws.Expert[i] + output[i]) / rootTwo;
        }
    }

    /// <summary>down·(gelu(gate·m) ⊙ up·m) into <see cref="DecodeWorkspace.Expert"/>.</summary>
    private static void GatedUnit(float* gate, float* up, float* down, int width, int hidden, DecodeWorkspace ws, int threads)
    {
        FloatGemv.Multiply(gate, width, hidden, ws.Normed, ws.Gate, threads);
        FloatGemv.Multiply(up, width, hidden, ws.Normed, ws.Up, threads);
        VectorGelu.GeluTimes(ws.Gate, ws.Up, width, KernelPaths.Best);
        FloatGemv.Multiply(down, hidden, width, ws.Gate, ws.Expert, threads);
    }

    /// <summary>The expert with the highest probability not yet chosen (the lower index on a tie).</summary>
    private static int MostLikelyUntaken(float* probabilities, ReadOnlySpan<bool> taken)
    {
        int best = -1;
        for (int e = 0; e < taken.Length; e++)
            if (!taken[e] && (best < 0 || probabilities[e] > probabilities[best])) best = e;
        return best;
    }
}
