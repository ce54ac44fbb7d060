using GrokLens.Hooks;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Analysis;

/// <summary>
/// The router's top-k choices of one model (one training step) on N evaluation tokens: byte [layer][token][rank], rank 0
/// being the expert of highest router probability. One step of a <see cref="RoutingHistory"/>.
/// </summary>
public sealed class RoutingRecord
{
    private readonly byte[] bytes;

    public RoutingRecord(int step, int layers, int tokens, int topK, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length != (long)layers * tokens * topK)
            throw new ArgumentException($"{bytes.Length} bytes do not hold {layers} layers × {tokens} tokens × top-{topK}.", nameof(bytes));
        Step = step;
        Layers = layers;
        Tokens = tokens;
        TopK = topK;
        this.bytes = bytes;
    }

    public int Step { get; }
    public int Layers { get; }
    public int Tokens { get; }
    public int TopK { get; }

    /// <summary>The raw bytes, as stored in <c>step-NNNNNN.bin</c>.</summary>
    public ReadOnlySpan<byte> Bytes => bytes;

    /// <summary>The expert chosen at <paramref name="rank"/> (0 = top-1) for evaluation token <paramref name="token"/> in <paramref name="layer"/>.</summary>
    public int Expert(int layer, int token, int rank)
    {
        if ((uint)layer >= (uint)Layers || (uint)token >= (uint)Tokens || (uint)rank >= (uint)TopK)
            throw new ArgumentOutOfRangeException(nameof(layer), $"(layer {layer}, token {token}, rank {rank}) is outside {Layers} × {Tokens} × {TopK}.");
        return bytes[((long)layer * Tokens + token) * TopK + rank];
    }

    /// <summary>The choices of one layer: token n's experts at [n·k, n·k + k).</summary>
    public ReadOnlySpan<byte> Layer(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)layer, (uint)Layers, nameof(layer));
        return bytes.AsSpan(layer * Tokens * TopK, Tokens * TopK);
    }

    /// <summary>
    /// How much of this record's routing in <paramref name="layer"/> matches <paramref name="reference"/> (e.g. the final
    /// model), OLMoE's router saturation: Top1 = share of tokens with the same top-1 expert; TopK = mean over tokens of
    /// |this top-k set ∩ reference top-k set| / k.
    /// </summary>
    public (double Top1, double TopK) Agreement(RoutingRecord reference, int layer)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.Tokens != Tokens || reference.TopK != TopK || reference.Layers != Layers)
            throw new ArgumentException("The records cover different tokens, layers or k.", nameof(reference));
        var mine = Layer(layer);
        var theirs = reference.Layer(layer);
        long sameFirst = 0, shared = 0;
        for (int n = 0; n < Tokens; n++)
        {
            var a = mine.Slice(n * TopK, TopK);
            var b = theirs.Slice(n * TopK, TopK);
            if (a[0] == b[0]) sameFirst++;
            foreach (byte expert in a)
                if (b.Contains(expert)) shared++;
        }
        return ((double)sameFirst / Tokens, (double)shared / ((long)Tokens * TopK));
    }

    /// <summary>
    /// Runs <paramref name="model"/> (no gradients, eval mode) on each window from position 0 and records every layer's
    /// top-k expert indices. Windows of equal length are batched.
    /// </summary>
    public static RoutingRecord Capture(GrokModel model, IReadOnlyList<int[]> windows, int step, int batchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        if (config.NumExperts > 256) throw new ArgumentException("Expert indices are stored as bytes: at most 256 experts.");
        int tokens = windows.Sum(w => w.Length);
        int k = config.TopK;
        var bytes = new byte[(long)config.NumLayers * tokens * k];
        bool wasTraining = model.training;
        model.eval();
        using var _ = no_grad();
        int offset = 0; // first token of the current group, in evaluation order
        int index = 0;
        while (index < windows.Count)
        {
            int length = windows[index].Length;
            int count = 1;
            while (index + count < windows.Count && count < batchSize && windows[index + count].Length == length) count++;
            using var scope = NewDisposeScope();
            var batch = tensor(windows.Skip(index).Take(count).SelectMany(w => w.Select(id => (long)id)).ToArray(), [count, length]);
            using var hooks = new ForwardHooks(Enumerable.Range(0, config.NumLayers).Select(l => HookPoints.Layer(l, HookPoints.TopKIndices)));
            model.Forward(batch, hooks);
            var captured = hooks.TakeCaptured();
            for (int layer = 0; layer < config.NumLayers; layer++)
            {
                using var indices = captured[layer].Value;
                var values = indices.cpu().to_type(ScalarType.Int64).data<long>().ToArray(); // [count, length, k]
                long destination = ((long)layer * tokens + offset) * k;
                for (int i = 0; i < values.Length; i++) bytes[destination + i] = checked((byte)values[i]);
            }
            offset += count * length;
            index += count;
        }
        if (wasTraining) model.train();
        return new RoutingRecord(step, config.NumLayers, tokens, k, bytes);
    }
}
