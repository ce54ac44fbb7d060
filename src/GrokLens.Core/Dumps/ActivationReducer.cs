using GrokLens.Analysis;
using GrokLens.Hooks;
using GrokLens.Model;
using GrokLens.Training;
using static TorchSharp.torch;

namespace GrokLens.Dumps;

/// <summary>
/// Running reductions over many runs, so a large prompt set needs no raw storage: per layer, how often each expert was
/// chosen (top-k assignments) and the routing statistics of <see cref="RoutingStatistics"/>; per chosen hook, each
/// neuron's sum, count, mean and max over tokens. Hooks whose shape starts with T are reduced over positions
/// ([T, D] → [D]); the expert hooks ([T, k, F], [T, k, D]) are reduced per expert ([E, F]), using the layer's top-k
/// choices. Sums are float64, so merging runs does not lose precision.
/// </summary>
public sealed class ActivationReducer : IDisposable
{
    private readonly GrokConfig config;
    private readonly Dictionary<string, HookPointInfo> infos;
    private readonly Dictionary<string, (Tensor Sum, Tensor Count, Tensor Max)> neurons = new(StringComparer.Ordinal);
    private readonly Tensor expertCounts; // [L, E] int64
    private readonly RoutingStatistics?[] routing;
    private long tokens;

    public ActivationReducer(GrokConfig config, IReadOnlyList<string> hooks)
    {
        this.config = config;
        infos = HookPoints.All(config).ToDictionary(h => h.Name, StringComparer.Ordinal);
        foreach (var hook in hooks)
        {
            var info = infos.TryGetValue(hook, out var i) ? i : throw new UnknownHookException($"Hook '{hook}' does not exist in this model.", []);
            if (!info.Shape.StartsWith("[T", StringComparison.Ordinal))
                throw new ArgumentException($"Hook '{hook}' has shape {info.Shape}; reductions need hooks whose first axis is the position T " +
                                            "(the attention patterns [H, T, Tk] cannot be reduced per neuron).");
            var shape = NeuronShape(info, hook);
            long[] countShape = IsPerExpert(hook) ? [config.NumExperts] : [];
            neurons[hook] = (zeros(shape, ScalarType.Float64), zeros(countShape, ScalarType.Int64),
                full(shape, float.NegativeInfinity, ScalarType.Float32));
        }
        Hooks = hooks.ToList();
        expertCounts = zeros([config.NumLayers, config.NumExperts], ScalarType.Int64);
        routing = new RoutingStatistics?[config.NumLayers];
    }

    /// <summary>Hooks reduced per neuron.</summary>
    public IReadOnlyList<string> Hooks { get; }

    /// <summary>What a run must capture: the reduced hooks and every layer's top-k choices.</summary>
    public IReadOnlyList<string> CaptureHooks =>
        Hooks.Concat(Enumerable.Range(0, config.NumLayers).Select(TopKHook)).Distinct().ToList();

    public long Tokens => tokens;

    /// <summary>Adds one run's activations.</summary>
    public void Observe(ActivationCache cache)
    {
        using var part = Part(config, Hooks, cache, 0, config.NumLayers - 1);
        Add(part);
    }

    /// <summary>
    /// Reduces one run's activations of layers <paramref name="firstLayer"/>…<paramref name="lastLayer"/>: the expert
    /// counts and routing statistics of those layers (from their captured top-k choices) and the per-neuron sums, counts
    /// and maxima of <paramref name="hooks"/> (each must be captured, and a per-expert hook's layer must be in the range).
    /// A cluster shard reduces its own layers this way; <see cref="Add"/> folds the parts in.
    /// </summary>
    public static ReductionPart Part(GrokConfig config, IEnumerable<string> hooks, ActivationCache cache, int firstLayer, int lastLayer)
    {
        long length = cache.TokenIds.Count;
        var part = new ReductionPart(length);
        try
        {
            using var scope = NewDisposeScope();
            for (int layer = firstLayer; layer <= lastLayer; layer++)
            {
                var indices = cache[TopKHook(layer)].to_type(ScalarType.Int64);
                part.ExpertCounts.Add(layer, bincount(indices.flatten(), minlength: config.NumExperts).DetachFromDisposeScope());
                // The part owns its tensors, whatever scope the caller runs in. No neighbour pairs: the rates need two tokens.
                part.Routing.Add(layer, length < 2 ? null : RoutingStatistics.FromTopK(layer, indices.unsqueeze(0), config.NumExperts));
            }
            foreach (var hook in hooks)
            {
                var values = cache[hook].to_type(ScalarType.Float64);
                (Tensor Sum, Tensor Count, Tensor Max) reduced;
                if (IsPerExpert(hook))
                {
                    // [T, k, F] rows go to the expert chosen in their slot.
                    var experts = cache[TopKHook(LayerOf(hook))].to_type(ScalarType.Int64).flatten();
                    var rows = values.reshape(-1, values.shape[^1]);
                    var sum = zeros([config.NumExperts, rows.shape[1]], ScalarType.Float64).index_add_(0, experts, rows, 1.0);
                    var count = zeros([config.NumExperts], ScalarType.Int64).index_add_(0, experts, ones_like(experts), 1);
                    var max = full([config.NumExperts, rows.shape[1]], float.NegativeInfinity, ScalarType.Float32);
                    for (int e = 0; e < config.NumExperts; e++)
                    {
                        var mine = rows.index_select(0, experts.eq(e).nonzero().squeeze(1));
                        if (mine.shape[0] > 0) max[e].copy_(mine.amax([0]).to_type(ScalarType.Float32));
                    }
                    reduced = (sum, count, max);
                }
                else
                {
                    reduced = (values.sum([0]), tensor(values.shape[0], ScalarType.Int64), values.amax([0]).to_type(ScalarType.Float32));
                }
                part.Neurons.Add(hook, (reduced.Sum.DetachFromDisposeScope(), reduced.Count.DetachFromDisposeScope(),
                    reduced.Max.DetachFromDisposeScope()));
            }
            return part;
        }
        catch
        {
            part.Dispose();
            throw;
        }
    }

    /// <summary>Folds in the reductions of one run (all layers and every reduced hook, e.g. combined from shards).</summary>
    public void Add(ReductionPart part)
    {
        using var scope = NewDisposeScope();
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            if (!part.ExpertCounts.TryGetValue(layer, out var counts))
                throw new ArgumentException($"The reductions of a run lack layer {layer}'s expert counts.");
            expertCounts[layer].add_(counts);
            if (part.Routing.GetValueOrDefault(layer) is { } run)
                routing[layer] = routing[layer] is { } soFar ? RoutingStatistics.Merge([soFar, run]) : run;
        }
        foreach (var (hook, (sum, count, max)) in neurons)
        {
            if (!part.Neurons.TryGetValue(hook, out var reduced))
                throw new ArgumentException($"The reductions of a run lack hook {hook}.");
            sum.add_(reduced.Sum);
            count.add_(reduced.Count);
            max.copy_(maximum(max, reduced.Max));
        }
        tokens += part.Tokens;
    }

    /// <summary>The state to store: a summary for the manifest and the tensors (copies) for the reductions file.</summary>
    public DumpReductionState State()
    {
        var tensors = new List<(string, Tensor, string)>();
        for (int layer = 0; layer < config.NumLayers; layer++)
            tensors.Add(($"blocks.{layer}.moe.expert_counts", expertCounts[layer].clone(), "top-k assignments per expert over all tokens [E]"));
        foreach (var (hook, (sum, count, max)) in neurons)
        {
            var per = IsPerExpert(hook) ? "per expert and neuron [E, …]" : "per neuron over positions";
            tensors.Add(($"{hook}.sum", sum.clone(), $"sum of {hook} {per} (float64)"));
            tensors.Add(($"{hook}.count", count.clone(), IsPerExpert(hook) ? "rows per expert [E]" : "positions summed (scalar)"));
            var divisor = IsPerExpert(hook) ? count.unsqueeze(1) : count;
            tensors.Add(($"{hook}.mean", sum.div(divisor).to_type(ScalarType.Float32), $"mean of {hook} {per} (NaN where nothing was seen)"));
            tensors.Add(($"{hook}.max", max.clone(), $"max of {hook} {per} (-inf where nothing was seen)"));
        }
        var counts = expertCounts.data<long>().ToArray();
        var summary = new DumpReductions
        {
            Hooks = Hooks,
            Tokens = tokens,
            Tensors = [],
            Routing = Enumerable.Range(0, config.NumLayers).Select(layer =>
            {
                var row = counts.Skip(layer * config.NumExperts).Take(config.NumExperts).ToArray();
                long assignments = row.Sum();
                return new DumpRoutingStatistics
                {
                    Layer = layer,
                    ExpertCounts = row,
                    ExpertShares = row.Select(c => assignments == 0 ? 0 : (double)c / assignments).ToArray(),
                    SameFirstExpertRate = routing[layer]?.SameFirstExpertRate,
                    TopKOverlapRate = routing[layer]?.TopKOverlapRate,
                    RatePairs = routing[layer]?.Pairs ?? 0,
                };
            }).ToList(),
        };
        return new DumpReductionState(summary, tensors);
    }

    /// <summary>Continues from the reductions of an incomplete dump (resume).</summary>
    public void Restore(DumpReader reader)
    {
        var stored = reader.Manifest.Reductions ?? throw new ArgumentException($"{reader.Location} holds no reductions.");
        if (!stored.Hooks.SequenceEqual(Hooks))
            throw new ArgumentException($"{reader.Location} reduces hooks {string.Join(", ", stored.Hooks)}, not {string.Join(", ", Hooks)}.");
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            using var counts = reader.LoadReduction($"blocks.{layer}.moe.expert_counts");
            expertCounts[layer].copy_(counts);
            var r = stored.Routing[layer];
            // Only the pair-weighted rates matter when merging more runs in; shares come from the restored counts.
            routing[layer] = r.RatePairs == 0 ? null
                : new RoutingStatistics(layer, r.ExpertShares.ToArray(), r.SameFirstExpertRate ?? double.NaN, r.TopKOverlapRate ?? double.NaN,
                    Tokens: 0, Pairs: r.RatePairs);
        }
        foreach (var (hook, (sum, count, max)) in neurons)
        {
            using (var s = reader.LoadReduction($"{hook}.sum")) sum.copy_(s);
            using (var c = reader.LoadReduction($"{hook}.count")) count.copy_(c);
            using (var m = reader.LoadReduction($"{hook}.max")) max.copy_(m);
        }
        tokens = stored.Tokens;
    }

    private long[] NeuronShape(HookPointInfo info, string hook)
    {
        var symbols = info.Shape.Trim('[', ']').Split(", ").Skip(IsPerExpert(hook) ? 2 : 1);
        var sizes = symbols.Select(Size).ToList();
        return IsPerExpert(hook) ? [config.NumExperts, .. sizes] : [.. sizes];
    }

    private long Size(string symbol) => symbol switch
    {
        "D" => config.HiddenSize,
        "H" => config.NumHeads,
        "Hkv" => config.NumKvHeads,
        "d" => config.HeadDim,
        "E" => config.NumExperts,
        "k" => config.TopK,
        "F" => config.ExpertSize,
        "V" => config.VocabSize,
        _ => throw new ArgumentException($"Cannot reduce a hook with axis '{symbol}'."),
    };

    internal static bool IsPerExpert(string hook) =>
        hook.EndsWith(HookPoints.ExpertPre, StringComparison.Ordinal) || hook.EndsWith(HookPoints.ExpertPost, StringComparison.Ordinal) ||
        hook.EndsWith(HookPoints.ExpertOut, StringComparison.Ordinal);

    internal static int LayerOf(string hook) => int.Parse(hook.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture);

    private static string TopKHook(int layer) => HookPoints.Layer(layer, HookPoints.TopKIndices);

    public void Dispose()
    {
        foreach (var (sum, count, max) in neurons.Values)
        {
            sum.Dispose();
            count.Dispose();
            max.Dispose();
        }
        expertCounts.Dispose();
    }
}
