using GrokLens.Hooks;
using static TorchSharp.torch;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// A reduction of the router's choices over many tokens, per layer: top-k assignments and top-1 choices per expert, the
/// summed gate weights, how many tokens chose each pair of experts together, and how often each ordered top-k choice
/// occurred. Built from each run's captured <c>moe.hook_topk_indices</c> and <c>moe.hook_topk_weights</c> ([T, k], a few
/// bytes per token) and summed with <see cref="Add"/>, so a corpus (or the runs of a cluster) needs no raw tensors.
/// </summary>
public sealed class RoutingCounts
{
    private readonly Dictionary<long, long>[] choices;

    public RoutingCounts(int layers, int experts)
    {
        Layers = layers;
        Experts = experts;
        TopK = Table<long>(layers, experts);
        Top1 = Table<long>(layers, experts);
        GateSum = Table<double>(layers, experts);
        Together = Enumerable.Range(0, layers).Select(_ => Table<long>(experts, experts)).ToArray();
        choices = Enumerable.Range(0, layers).Select(_ => new Dictionary<long, long>()).ToArray();
    }

    public int Layers { get; }
    public int Experts { get; }

    /// <summary>Tokens counted (each layer sees every token once).</summary>
    public long Tokens { get; private set; }

    /// <summary>[layer][expert]: top-k assignments (a token counts once for each expert it chose).</summary>
    public long[][] TopK { get; }

    /// <summary>[layer][expert]: tokens whose highest-probability (first) expert this is.</summary>
    public long[][] Top1 { get; }

    /// <summary>[layer][expert]: the expert's gate weights summed over the tokens that chose it.</summary>
    public double[][] GateSum { get; }

    /// <summary>[layer][a][b]: tokens that chose both a and b; the diagonal [a][a] is the tokens that chose a.</summary>
    public long[][][] Together { get; }

    /// <summary>
    /// [layer]: how many tokens made each ordered top-k choice, keyed by <see cref="ChoiceKey"/> (the random-router
    /// baseline of the vocabulary analysis draws from it).
    /// </summary>
    public IReadOnlyDictionary<long, long> Choices(int layer) => choices[layer];

    /// <summary>The hooks a run must capture: every layer's top-k indices and weights.</summary>
    public static IReadOnlyList<string> RequiredHooks(int layers) =>
        Enumerable.Range(0, layers).SelectMany(l => new[]
        {
            HookPoints.Layer(l, HookPoints.TopKIndices), HookPoints.Layer(l, HookPoints.TopKWeights),
        }).ToList();

    /// <summary>Adds one run's choices (from a cache holding <see cref="RequiredHooks"/>).</summary>
    public void Observe(ActivationCache cache)
    {
        int length = cache.TokenIds.Count;
        for (int layer = 0; layer < Layers; layer++)
        {
            var (indices, k) = Indices(cache, layer);
            var gates = Gates(cache, layer);
            for (int t = 0; t < length; t++)
                ObserveToken(layer, indices.AsSpan(t * k, k), gates.AsSpan(t * k, k));
        }
        Tokens += length;
    }

    /// <summary>One token's choices in one layer, highest probability first.</summary>
    private void ObserveToken(int layer, ReadOnlySpan<long> chosen, ReadOnlySpan<double> gates)
    {
        Top1[layer][chosen[0]]++;
        for (int s = 0; s < chosen.Length; s++)
        {
            TopK[layer][chosen[s]]++;
            GateSum[layer][chosen[s]] += gates[s];
            for (int r = 0; r < chosen.Length; r++) Together[layer][chosen[s]][chosen[r]]++;
        }
        long key = ChoiceKey(chosen, Experts);
        choices[layer][key] = choices[layer].GetValueOrDefault(key) + 1;
    }

    /// <summary>Adds another reduction of the same model (another subset, another shard of runs).</summary>
    public void Add(RoutingCounts other)
    {
        if (other.Layers != Layers || other.Experts != Experts)
            throw new ArgumentException($"Cannot add routing counts of {other.Layers} layers × {other.Experts} experts to {Layers} × {Experts}.");
        for (int layer = 0; layer < Layers; layer++)
        {
            for (int e = 0; e < Experts; e++)
            {
                TopK[layer][e] += other.TopK[layer][e];
                Top1[layer][e] += other.Top1[layer][e];
                GateSum[layer][e] += other.GateSum[layer][e];
                for (int b = 0; b < Experts; b++) Together[layer][e][b] += other.Together[layer][e][b];
            }
            foreach (var (key, count) in other.choices[layer])
                choices[layer][key] = choices[layer].GetValueOrDefault(key) + count;
        }
        Tokens += other.Tokens;
    }

    /// <summary>Sets the token count and one layer's choice counts (reading a stored tally).</summary>
    internal void Restore(long tokens, int layer, IEnumerable<(long Key, long Count)> stored)
    {
        Tokens = tokens;
        foreach (var (key, count) in stored) choices[layer][key] = count;
    }

    /// <summary>The share of tokens that chose each expert (in their top-k), [layer][expert].</summary>
    public double Rate(int layer, int expert) => Tokens == 0 ? double.NaN : (double)Together[layer][expert][expert] / Tokens;

    /// <summary>
    /// An ordered choice (experts highest probability first) as one number: Σ (expertᵣ + 1)·(E + 1)ʳ, unique for any
    /// number of slots (a run with <c>set_top_k</c> may choose more or fewer).
    /// </summary>
    public static long ChoiceKey(ReadOnlySpan<long> chosen, int experts)
    {
        long key = 0, weight = 1;
        foreach (long expert in chosen)
        {
            key = checked(key + (expert + 1) * weight);
            weight = checked(weight * (experts + 1));
        }
        return key;
    }

    /// <summary>The experts of a <see cref="ChoiceKey"/>, highest probability first.</summary>
    public static long[] ChoiceOf(long key, int experts)
    {
        var chosen = new List<long>();
        for (; key > 0; key /= experts + 1) chosen.Add(key % (experts + 1) - 1);
        return chosen.ToArray();
    }

    /// <summary>A layer's top-k indices from a cache as a flat array [T·k] and k.</summary>
    internal static (long[] Indices, int K) Indices(ActivationCache cache, int layer)
    {
        using var scope = NewDisposeScope();
        var tensor = cache[HookPoints.Layer(layer, HookPoints.TopKIndices)];
        return (tensor.to_type(ScalarType.Int64).contiguous().data<long>().ToArray(), (int)tensor.shape[^1]);
    }

    private static double[] Gates(ActivationCache cache, int layer)
    {
        using var scope = NewDisposeScope();
        return cache[HookPoints.Layer(layer, HookPoints.TopKWeights)].to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
    }

    private static T[][] Table<T>(int rows, int columns) => Enumerable.Range(0, rows).Select(_ => new T[columns]).ToArray();
}
