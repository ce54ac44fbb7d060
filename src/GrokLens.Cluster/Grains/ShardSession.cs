using GrokLens.Cluster.Contracts;
using GrokLens.Cluster.Hosting;
using GrokLens.Dumps;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Cluster.Grains;

/// <summary>
/// One run or generation on one shard: its hooks (captures and the interventions' hook functions, created once as
/// in-process), the source activations they patch from, its KV cache of this shard's layers and what it captured.
/// </summary>
internal sealed class ShardSession : IDisposable
{
    private readonly HostedModel hosted;
    private readonly LayerRange layers;
    private readonly ForwardHooks hooks;
    private readonly ActivationCache? source;
    private readonly KvCache? cache;
    private readonly HashSet<string> returned;
    private readonly string[]? reduce;
    private readonly List<KeyValuePair<string, Tensor>> captured = new();
    private readonly List<int> tokenIds = new();

    public ShardSession(HostedModel hosted, LayerRange layers, OpenRequest request)
    {
        this.hosted = hosted;
        this.layers = layers;
        Client = request.Client;
        var config = hosted.Config;
        var known = new HashSet<string>(hosted.Loaded.HookNames, StringComparer.Ordinal);
        foreach (var name in request.Capture.Concat(request.Reduce ?? []))
            if (!known.Contains(name)) throw new UnknownHookException($"Hook '{name}' does not exist in model '{hosted.Name}'.", []);
        returned = new HashSet<string>(request.Capture, StringComparer.Ordinal);
        reduce = request.Reduce;
        var captureNames = request.Capture.AsEnumerable();
        if (reduce is not null)
            captureNames = captureNames.Concat(reduce)
                .Concat(Enumerable.Range(layers.First, layers.Count).Select(l => HookPoints.Layer(l, HookPoints.TopKIndices)));
        hooks = new ForwardHooks(captureNames.Distinct());
        try
        {
            if (request.Source.Length > 0)
                source = new ActivationCache(request.Source.Select(s => new KeyValuePair<string, Tensor>(s.Name, s.Tensor.ToTensor())), [], 0);
            var interventions = InterventionJson.Deserialize(request.InterventionsJson);
            foreach (var (name, function) in InterventionRunner.CreateHooks(config, interventions, source)) hooks.Add(name, function);
            if (request.CacheCapacity > 0) cache = new KvCache(hosted.Model, 1, request.CacheCapacity, layers);
        }
        catch
        {
            Dispose();
            throw;
        }
        Touch();
    }

    public string Client { get; }

    /// <summary>The session captures the <c>logits</c> hook, which holds exactly a full pass's logits.</summary>
    public bool CapturesLogits => returned.Contains(HookPoints.Logits);

    public DateTime LastUsedUtc { get; private set; }

    /// <summary>Forward calls running now (a busy session is never expired).</summary>
    public int Busy { get; set; }

    /// <summary>Bytes of this session's KV cache.</summary>
    public long CacheBytes => cache is null ? 0
        : 2L * layers.Count * cache.Capacity * hosted.Config.NumKvHeads * hosted.Config.HeadDim * sizeof(float);

    public void Touch() => LastUsedUtc = DateTime.UtcNow;

    /// <summary>
    /// Runs this shard's layers on one forward call, exactly as <see cref="GrokModel.Forward"/> does: prepare (RoPE
    /// tables, masks and cache offsets from the token ids), embed on the first shard, the layers, unembed on the last.
    /// Returns the residual stream for the next shard, or the logits.
    /// </summary>
    public TensorData Forward(StepRequest request)
    {
        var model = hosted.Model;
        bool first = layers.First == 0, last = layers.Last == hosted.Config.NumLayers - 1;
        if (!first && request.Residual is null) throw new ArgumentException($"Layers {layers} need the residual stream of layer {layers.First - 1}.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tokens = tensor(request.Tokens, [1, request.Tokens.Length]);
        var input = first ? null : request.Residual!.ToTensor();
        // A generation's step of one token runs in C# when nothing is hooked, as in-process: the same values bit for bit.
        var output = cache is null ? null : model.TryDecodeLayers(tokens, input, hooks.IsEmpty ? null : hooks, cache, layers.First, layers.Count, unembed: last);
        if (output is null)
        {
            var context = model.Prepare(tokens, hooks, cache);
            var residual = input ?? model.Embed(tokens, context);
            residual = model.RunLayers(residual, layers.First, layers.Count, context);
            output = last ? model.Unembed(residual, context, request.LastPositionOnly) : residual;
        }
        cache?.Advance(request.Tokens.Length);
        captured.AddRange(hooks.TakeCaptured());
        tokenIds.AddRange(request.Tokens.Select(t => (int)t));
        return TensorData.From(output);
    }

    /// <summary>The captures asked for (batch dimension removed, forward order), this shard's reductions and the logits given.</summary>
    public CloseReply Finish(TensorData? logits = null)
    {
        using var scope = NewDisposeScope();
        var all = captured.Select(pair => new KeyValuePair<string, Tensor>(pair.Key, pair.Value.squeeze(0))).ToList();
        using var cacheOfRun = new ActivationCache(all.Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value.alias().DetachFromDisposeScope())),
            tokenIds.ToArray(), 0);
        ReductionData? reduction = null;
        if (reduce is not null)
        {
            using var part = ActivationReducer.Part(hosted.Config, reduce, cacheOfRun, layers.First, layers.Last);
            reduction = ReductionWire.ToData(part);
        }
        return new CloseReply
        {
            Captures = cacheOfRun.Names.Where(returned.Contains)
                .Select(name => new NamedTensor { Name = name, Tensor = TensorData.From(cacheOfRun[name]) }).ToArray(),
            Reduction = reduction,
            Logits = logits,
        };
    }

    public void Dispose()
    {
        hooks.Dispose();
        source?.Dispose();
        cache?.Dispose();
        foreach (var pair in captured) pair.Value.Dispose();
        captured.Clear();
    }
}
