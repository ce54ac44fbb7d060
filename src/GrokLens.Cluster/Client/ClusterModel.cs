using System.Collections.Concurrent;
using GrokLens.Cluster.Contracts;
using GrokLens.Cluster.Grains;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Loading;
using GrokLens.Model;
using GrokLens.Tokenization;
using Orleans.Runtime;
using static TorchSharp.torch;

namespace GrokLens.Cluster;

/// <summary>
/// A model whose layers run on the shards of a cluster, behind the same <see cref="IModelEngine"/> as the in-process
/// engine. A run opens a session on every shard of one pipeline (captures, reductions and interventions of its layers,
/// the source activations those patch from), sends the token ids to the first shard, which passes the residual stream on
/// to the next, collects each shard's captures directly and closes the sessions. While a call is pending a watchdog
/// checks the membership table: a shard whose silo died fails the run within seconds with <see cref="ShardLostException"/>.
/// </summary>
public sealed partial class ClusterModel : IModelEngine
{
    private readonly IClusterClient client;
    private readonly ConcurrentDictionary<string, ShardStatus> shardStatus = new();
    private readonly ConcurrentDictionary<string, byte> lostSilos = new();

    /// <summary>Silos seen dead, with when this client first saw it (silos dead before it connected: MinValue).</summary>
    private readonly ConcurrentDictionary<string, DateTime> deaths = new();
    private readonly string clientId = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    private readonly ClusterModelOptions options;
    private readonly SiloGateways gateways;
    private ClusterLayout layout;
    private int nextPipeline;

    private ClusterModel(IClusterClient client, ClusterLayout layout, GrokConfig config, ITokenizer? tokenizer, ModelFiles files,
        ClusterModelOptions options)
    {
        this.client = client;
        this.layout = layout;
        this.options = options;
        gateways = new SiloGateways(client, options.ControlTimeout);
        Config = config;
        Tokenizer = tokenizer;
        Files = files;
        HookNames = HookPoints.All(config).Select(h => h.Name).ToList();
    }

    /// <summary>Finds <paramref name="model"/> on the cluster and reads its config and tokenizer from its first shard.</summary>
    public static async Task<ClusterModel> ConnectAsync(IClusterClient client, string model, ClusterModelOptions? options = null)
    {
        options ??= new ClusterModelOptions();
        if (!ModelName.IsValid(model)) throw new UnknownModelException($"'{model}' is not a model name.");
        var layout = ClusterLayout.For(model, await Declarations(client, options.ControlTimeout).ConfigureAwait(false));
        var files = await client.GetGrain<IShardGrain>(layout.Pipeline(0)[0].ToString()).Files().WaitAsync(options.ControlTimeout * 4).ConfigureAwait(false);
        var config = GrokConfig.FromJson(files.ConfigJson);
        var tokenizer = LoadTokenizer(files, config);
        var engine = new ClusterModel(client, layout, config, tokenizer, files, options) { Name = model };
        try
        {
            foreach (var (silo, state) in await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false).WaitAsync(options.ControlTimeout).ConfigureAwait(false))
                if (state is not (SiloStatus.Active or SiloStatus.Joining or SiloStatus.Created)) engine.deaths[silo.ToParsableString()] = DateTime.MinValue;
        }
        catch (TimeoutException)
        {
        }
        return engine;
    }

    public string Name { get; private init; } = "";
    public GrokConfig Config { get; }
    public ITokenizer? Tokenizer { get; }
    public IReadOnlyList<string> HookNames { get; }
    public ClusterLayout Layout => layout;

    /// <summary>The silo gateways (host:port) this model has called shards through directly, each the shard's own silo.</summary>
    public IReadOnlyList<string> DirectGateways => gateways.Connected;

    /// <summary>Config, tokenizer files and weights fingerprint as the first shard's silo reported them.</summary>
    public ModelFiles Files { get; }

    public IReadOnlyList<LayerPlacement> Placement
    {
        get
        {
            var pipeline = layout.Pipeline(0);
            foreach (var key in pipeline.Where(k => !shardStatus.ContainsKey(k.ToString()))) Describe(key).GetAwaiter().GetResult();
            return pipeline.Select(key => shardStatus[key.ToString()]).Zip(pipeline, (status, key) => new LayerPlacement(key.Layers.First,
                key.Layers.Last, $"{status.Host} (silo {status.Silo})",
                $"shard {key}; {layout.Replicas} replica(s); {status.Detail}")).ToList();
        }
    }

    public IReadOnlyList<string> ResolveHooks(IEnumerable<string> patterns) => HookPatterns.Resolve(patterns, HookNames);

    public IReadOnlyList<int> Encode(string text) => Tokenizer?.Encode(text)
        ?? throw new InvalidOperationException($"Model '{Name}' has no tokenizer; pass token ids instead of text.");

    public void CheckSequence(IReadOnlyList<int> tokenIds)
    {
        if (tokenIds.Count == 0) throw new ArgumentException("The prompt is empty: give at least one token.");
        if (tokenIds.Count > Config.MaxPositions)
            throw new ArgumentException($"The prompt has {tokenIds.Count} tokens; model '{Name}' takes at most {Config.MaxPositions}.");
        foreach (int id in tokenIds)
            if (id < 0 || id >= Config.VocabSize)
                throw new ArgumentException($"Token id {id} is outside the vocabulary 0…{Config.VocabSize - 1}.");
    }

    public (string? Fingerprint, IReadOnlyList<DumpWeightFile> Files) WeightFiles() => (Files.WeightsFingerprint,
        Files.WeightFileNames.Select((name, i) => new DumpWeightFile { Name = name, Bytes = Files.WeightFileBytes[i], Fingerprint = Files.WeightFileFingerprints[i] }).ToList());

    public RunResult Run(IReadOnlyList<int> tokenIds, RunOptions? options = null) =>
        RunAsync(tokenIds, options ?? new RunOptions()).GetAwaiter().GetResult();

    public async Task<RunResult> RunAsync(IReadOnlyList<int> tokenIds, RunOptions options, CancellationToken cancellation = default)
    {
        CheckSequence(tokenIds);
        var plan = Plan(options);
        return await RunOnPipeline(NextPipeline(), tokenIds, plan, cancellation).ConfigureAwait(false);
    }

    /// <summary>Logits of residuals [N, D] on the last shard: runs the model's final norm and unembedding there.</summary>
    public Tensor ReadOut(Tensor residual)
    {
        var shards = layout.Pipeline(NextPipeline());
        var last = client.GetGrain<IShardGrain>(shards[^1].ToString());
        return Watch(shards, last.ReadOut(TensorData.From(residual)), CancellationToken.None).GetAwaiter().GetResult().ToTensor();
    }

    private int NextPipeline() => (int)((uint)Interlocked.Increment(ref nextPipeline) % (uint)layout.Replicas);

    /// <summary>Validates a run's options as the in-process engine does, before anything reaches the cluster.</summary>
    private RunPlan Plan(RunOptions options)
    {
        if (options.Hooks.Count > 0)
            throw new NotSupportedException("C# hook functions run only in-process; a cluster model takes JSON interventions " +
                                            "(RunOptions.Interventions), which run on the shards that hold their layers.");
        var capture = ResolveHooks(options.Capture);
        InterventionRunner.CreateHooks(Config, options.Interventions, options.Source); // Validates; the shards build their own.
        IReadOnlyList<string>? reduce = null;
        if (options.Reduce is not null)
        {
            reduce = ResolveHooks(options.Reduce);
            using var check = new ActivationReducer(Config, reduce); // Checks that every hook can be reduced.
        }
        var sourceHooks = InterventionRunner.SourceHooks(Config, options.Interventions);
        return new RunPlan(capture, reduce, InterventionJson.Serialize(options.Interventions.Where(i => i.Enabled)),
            options.Source, sourceHooks);
    }

    /// <summary>Index of the shard of <paramref name="shards"/> where a hook fires.</summary>
    private static int ShardOf(string hook, IReadOnlyList<ShardKey> shards)
    {
        if (hook.StartsWith("blocks.", StringComparison.Ordinal))
        {
            int layer = int.Parse(hook.AsSpan(7, hook.IndexOf('.', 7) - 7), System.Globalization.CultureInfo.InvariantCulture);
            for (int i = 0; i < shards.Count; i++)
                if (shards[i].Layers.Contains(layer)) return i;
        }
        return hook == HookPoints.Embed ? 0 : shards.Count - 1;
    }

    private OpenRequest OpenFor(int shard, IReadOnlyList<ShardKey> shards, Guid session, RunPlan plan, int cacheCapacity)
    {
        bool Mine(string hook) => ShardOf(hook, shards) == shard;
        var source = plan.Source is { } cache
            ? plan.SourceHooks.Where(h => Mine(h) && cache.Contains(h)).Select(h => new NamedTensor { Name = h, Tensor = TensorData.From(cache[h]) }).ToArray()
            : [];
        var capture = plan.Capture.Where(Mine).ToArray();
        var reduce = plan.Reduce?.Where(Mine).ToArray();
        return new OpenRequest
        {
            SessionId = session,
            Client = clientId,
            Capture = capture,
            Reduce = reduce,
            InterventionsJson = plan.InterventionsJson,
            Source = source,
            CacheCapacity = cacheCapacity,
            // A single pass: the client collects what the shard leaves, if anything; the last shard always leaves the logits.
            Collected = cacheCapacity == 0 && (capture.Length > 0 || reduce is not null || shard == shards.Count - 1),
        };
    }

    private async Task<RunResult> RunOnPipeline(int replica, IReadOnlyList<int> tokenIds, RunPlan plan, CancellationToken cancellation)
    {
        var shards = layout.Pipeline(replica);
        var grains = shards.Select(k => client.GetGrain<IShardGrain>(k.ToString())).ToArray();
        var session = Guid.NewGuid();
        try
        {
            // One trip: the first shard's step opens every shard's session and runs the pipeline. Meanwhile the client
            // collects, each straight from its own silo, the captures and reductions of the shards that have some and the
            // last shard's logits: each arrives as soon as its shard has run, while the shards after it still compute, and
            // none is sent on through the shards before it.
            ClusterTrace.Mark(session, "client.start");
            var direct = await Task.WhenAll(shards.Select((_, i) => ShardThroughItsGateway(shards, i))).ConfigureAwait(false);
            var open = shards.Select((_, i) => OpenFor(i, shards, session, plan, 0)).ToArray();
            var step = direct[0].Step(new StepRequest
            {
                SessionId = session,
                Tokens = tokenIds.Select(id => (long)id).ToArray(),
                Downstream = shards.Skip(1).Select(k => k.ToString()).ToArray(),
                Open = open,
            });
            var collected = Enumerable.Range(0, shards.Length).Where(i => open[i].Collected).ToArray();
            var collects = collected.Select(i => direct[i].Collect(session)).ToArray();
            ClusterTrace.Mark(session, "client.sent");
            var closed = await Watch(shards, StepAndCollect(step, collects), cancellation).ConfigureAwait(false);
            ClusterTrace.Mark(session, "client.collected");
            if (Array.FindIndex(closed, c => c.Missing) is var gone and >= 0)
            {
                // The pass ran, but the session was closed before its results were handed over (the shard was deactivated).
                Invalidate();
                throw new ClusterUnavailableException($"The session of {shards[collected[gone]].Describe()} was closed before its results were collected " +
                                                      "(the shard was deactivated or started again). The run was abandoned; retry it.");
            }
            var assembled = Assemble(tokenIds, closed, plan);
            ClusterTrace.Mark(session, "client.assembled");
            return assembled;
        }
        catch
        {
            CloseQuietly(grains, session);
            throw;
        }
    }

    /// <summary>
    /// The collections once the step has succeeded, or the first failure at once: after a failed step the collections of
    /// the shards it never reached would wait until the sessions are closed.
    /// </summary>
    private static async Task<CloseReply[]> StepAndCollect(Task<StepReply> step, Task<CloseReply>[] collects)
    {
        var pending = new List<Task>(collects) { step };
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending).ConfigureAwait(false);
            if (!done.IsCompletedSuccessfully) await done.ConfigureAwait(false); // Throws its error.
            pending.Remove(done);
        }
        return collects.Select(c => c.Result).ToArray();
    }

    private static RunResult Assemble(IReadOnlyList<int> tokenIds, CloseReply[] closed, RunPlan plan)
    {
        var captures = new List<KeyValuePair<string, Tensor>>();
        var parts = new List<ReductionPart>();
        Tensor? logits = null;
        try
        {
            foreach (var shard in closed)
            {
                foreach (var capture in shard.Captures) captures.Add(new(capture.Name, capture.Tensor.ToTensor()));
                if (shard.Reduction is { } data) parts.Add(ReductionWire.ToPart(data));
            }
            if (closed[^1].Logits is { } batched)
            {
                using var tensor = batched.ToTensor();
                logits = tensor.squeeze(0);
            }
            else // The last shard sent its logits once, as the captured 'logits' hook (batch dimension removed).
                logits = (closed[^1].Captures.FirstOrDefault(c => c.Name == HookPoints.Logits)?.Tensor
                          ?? throw new InvalidOperationException("The last shard returned no logits.")).ToTensor();
            var reduction = plan.Reduce is null ? null : ReductionPart.Combine(parts);
            return new RunResult(tokenIds.ToArray(), logits, new ActivationCache(captures, tokenIds.ToArray(), 0), reduction);
        }
        catch
        {
            foreach (var pair in captures) pair.Value.Dispose();
            logits?.Dispose();
            throw;
        }
        finally
        {
            foreach (var part in parts) part.Dispose(); // Combine moved their tensors out; leftovers of a failure are freed.
        }
    }

    /// <summary>Frees a failed run's sessions where the shards still answer (the lease frees the rest).</summary>
    private static void CloseQuietly(IEnumerable<IShardGrain> grains, Guid session)
    {
        foreach (var grain in grains)
        {
            try
            {
                _ = grain.Close(session).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            }
            catch (Exception)
            {
                // The client is gone; the lease frees the session.
            }
        }
    }

    /// <summary>
    /// Waits for a cluster call, checking every <see cref="ClusterModelOptions.WatchInterval"/> whether a shard of the
    /// pipeline lost its silo; a failure of the call itself is explained the same way when a silo died.
    /// </summary>
    private async Task<T> Watch<T>(ShardKey[] shards, Task<T> call, CancellationToken cancellation)
    {
        var since = DateTime.UtcNow;
        var where = await Locate(shards).ConfigureAwait(false);
        while (true)
        {
            var done = await Task.WhenAny(call, Task.Delay(options.WatchInterval, cancellation)).ConfigureAwait(false);
            cancellation.ThrowIfCancellationRequested();
            if (done == call)
            {
                try
                {
                    return await call.ConfigureAwait(false);
                }
                catch (Exception e) when (IsClusterFault(e))
                {
                    throw await Explain(where, since, e).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // A shard whose silo died answers from a new activation on another silo, without the session.
                    if (await Moved(where, e).ConfigureAwait(false) is { } moved) throw moved;
                    throw;
                }
            }
            if (await LostShard(where, since, null).ConfigureAwait(false) is { } lost)
            {
                _ = call.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                throw lost;
            }
        }
    }

    private async Task Watch(ShardKey[] shards, Task call, CancellationToken cancellation) =>
        await Watch(shards, call.ContinueWith(t => { t.GetAwaiter().GetResult(); return true; }, TaskScheduler.Default), cancellation).ConfigureAwait(false);

    internal static bool IsClusterFault(Exception e) => e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException
        or ObjectDisposedException
        or Orleans.Runtime.Messaging.ConnectionFailedException or ClusterUnavailableException or ShardLostException;

    /// <summary>After a failed call: the shard whose silo died (waiting a little for the membership to say so), or the error itself.</summary>
    private async Task<Exception> Explain(IReadOnlyList<(ShardKey Key, ShardStatus Status)> where, DateTime since, Exception error)
    {
        if (error is ShardLostException) return error;
        var deadline = DateTime.UtcNow + options.DeathWait;
        while (DateTime.UtcNow < deadline)
        {
            if (await LostShard(where, since, error).ConfigureAwait(false) is { } lost) return lost;
            await Task.Delay(options.WatchInterval).ConfigureAwait(false);
        }
        return new ClusterUnavailableException($"A cluster call for model '{Name}' failed: {error.Message}", error);
    }

    /// <summary>
    /// The first shard of the pipeline whose silo the membership no longer lists as active, as a
    /// <see cref="ShardLostException"/>; else, when some other silo died since <paramref name="since"/>, a
    /// <see cref="ClusterUnavailableException"/>: a request routed through a gateway that died is never answered.
    /// </summary>
    private async Task<Exception?> LostShard(IReadOnlyList<(ShardKey Key, ShardStatus Status)> where, DateTime since, Exception? cause)
    {
        Dictionary<SiloAddress, SiloStatus> hosts;
        try
        {
            hosts = await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false).WaitAsync(options.ControlTimeout).ConfigureAwait(false);
        }
        catch (Exception)
        {
            return null; // The membership is not readable right now; the call itself decides.
        }
        var status = hosts.ToDictionary(pair => pair.Key.ToParsableString(), pair => pair.Value);
        foreach (var (silo, state) in status)
            if (state is not (SiloStatus.Active or SiloStatus.Joining or SiloStatus.Created)) deaths.TryAdd(silo, DateTime.UtcNow);
        foreach (var (key, shard) in where)
        {
            var state = status.GetValueOrDefault(shard.Silo, SiloStatus.None);
            if (state is SiloStatus.Active or SiloStatus.Joining) continue;
            lostSilos[shard.Silo] = 0;
            gateways.Forget(shard.Silo);
            Invalidate();
            return new ShardLostException(key.Describe(), shard.Host, shard.Silo,
                state == SiloStatus.None ? "its silo left the cluster" : $"its silo is {state.ToString().ToLowerInvariant()}", cause);
        }
        var died = deaths.Where(d => d.Value >= since).Select(d => d.Key).ToList();
        if (died.Count == 0) return null;
        foreach (var silo in died)
        {
            lostSilos[silo] = 0;
            gateways.Forget(silo);
        }
        Invalidate();
        return new ClusterUnavailableException($"Silo {string.Join(", ", died)} died while a call for model '{Name}' was in flight; " +
                                               "a request routed through it is lost. The run was abandoned; retry it.", cause);
    }

    /// <summary>
    /// After a call failed with an error of its own (not the cluster's): the first shard of the pipeline whose silo died or
    /// that now runs on another silo than before (it was started again: its sessions and KV caches are gone), else null.
    /// </summary>
    private async Task<ShardLostException?> Moved(IReadOnlyList<(ShardKey Key, ShardStatus Status)> where, Exception error)
    {
        if (await LostShard(where, DateTime.MaxValue, error).ConfigureAwait(false) is ShardLostException lost) return lost;
        foreach (var (key, before) in where)
        {
            ShardStatus now;
            try
            {
                now = await client.GetGrain<IShardGrain>(key.ToString()).Describe().WaitAsync(options.ControlTimeout).ConfigureAwait(false);
            }
            catch (Exception)
            {
                continue; // Not answering now: the error itself is reported.
            }
            if (string.IsNullOrEmpty(before.Silo) || now.Silo == before.Silo) continue;
            Invalidate();
            return new ShardLostException(key.Describe(), before.Host, before.Silo,
                $"it was started again on silo {now.Silo}, without this run's session", error);
        }
        return null;
    }

    /// <summary>
    /// Where each shard of a pipeline runs (asking it once, which activates it; remembered until a shard is lost). A shard
    /// that does not answer within <see cref="ClusterModelOptions.DeathWait"/> fails the call as lost.
    /// </summary>
    private async Task<IReadOnlyList<(ShardKey Key, ShardStatus Status)>> Locate(ShardKey[] shards)
    {
        var missing = shards.Where(k => !shardStatus.ContainsKey(k.ToString())).ToArray();
        try
        {
            if (missing.Length > 0) await Task.WhenAll(missing.Select(Describe)).WaitAsync(options.DeathWait * 3).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new ClusterUnavailableException(
                $"A shard of {string.Join(", ", missing.Select(k => k.Describe()))} did not answer within {options.DeathWait.TotalSeconds * 3:0} s.", e);
        }
        return shards.Select(k => (k, shardStatus.TryGetValue(k.ToString(), out var status) ? status : new ShardStatus { Key = k.ToString() })).ToList();
    }

    /// <summary>Shard <paramref name="index"/> of a pipeline, called through the gateway of the silo that hosts it.</summary>
    private async Task<IShardGrain> ShardThroughItsGateway(ShardKey[] shards, int index)
    {
        var where = await Locate(shards).ConfigureAwait(false);
        return gateways.For(where[index].Status.Silo).GetGrain<IShardGrain>(shards[index].ToString());
    }

    private async Task Describe(ShardKey key)
    {
        var status = await client.GetGrain<IShardGrain>(key.ToString()).Describe().ConfigureAwait(false);
        shardStatus[key.ToString()] = status;
    }

    /// <summary>Forgets where shards run and re-reads the layout, so the next run uses the silos that are up.</summary>
    private void Invalidate() => shardStatus.Clear();

    /// <summary>Re-reads the silos' declarations (after a silo died or joined).</summary>
    public async Task RefreshLayoutAsync(ICollection<string>? excludeSilos = null)
    {
        var declarations = await Declarations(client, options.ControlTimeout, excludeSilos).ConfigureAwait(false);
        layout = ClusterLayout.For(Name, declarations);
        Invalidate();
    }

    /// <summary>Names of the models the cluster's silos declare, sorted (a model missing some layers is listed; opening it says which).</summary>
    public static async Task<IReadOnlyList<string>> ListModelsAsync(IClusterClient client, TimeSpan timeout) =>
        (await Declarations(client, timeout).ConfigureAwait(false)).SelectMany(d => d.Models).Select(m => m.Name)
            .Distinct().Order(StringComparer.Ordinal).ToList();

    internal static async Task<IReadOnlyList<SiloDeclaration>> Declarations(IClusterClient client, TimeSpan timeout, ICollection<string>? exclude = null)
    {
        // A request through a gateway that just died is never answered: every control call has a timeout.
        var silos = await client.GetGrain<IClusterInfoGrain>(0).Silos().WaitAsync(timeout).ConfigureAwait(false);
        return silos.Where(s => exclude is null || !exclude.Contains(s.Address))
            .Select(s => SiloDeclaration.FromJson(s.DeclarationJson)).OfType<SiloDeclaration>().ToList();
    }

    private static ITokenizer? LoadTokenizer(ModelFiles files, GrokConfig config)
    {
        var folder = Directory.CreateTempSubdirectory("groklens-cluster-tokenizer-");
        try
        {
            foreach (var (name, bytes) in files.TokenizerFiles)
                File.WriteAllBytes(Path.Combine(folder.FullName, Path.GetFileName(name)), bytes);
            return ModelLoader.FindTokenizer(folder.FullName, config);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    public void Dispose()
    {
        // The main client belongs to the caller's ClusterConnection; shard sessions are closed by each run.
        gateways.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private sealed record RunPlan(IReadOnlyList<string> Capture, IReadOnlyList<string>? Reduce, string InterventionsJson,
        ActivationCache? Source, IReadOnlyList<string> SourceHooks);
}

/// <summary>How a <see cref="ClusterModel"/> watches its calls.</summary>
public sealed record ClusterModelOptions
{
    /// <summary>How often a pending call checks whether a shard's silo died.</summary>
    public TimeSpan WatchInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Longest wait for a small control call (membership, layout, batch progress). A request in flight to a silo that died
    /// is never answered (Orleans clients time it out only after the response timeout), so these give up sooner.
    /// </summary>
    public TimeSpan ControlTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a failed call waits for the membership to name a dead silo before reporting the error as is.</summary>
    public TimeSpan DeathWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a generation tells its shards it is still there; keep it well below the silos' session lease.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts per prompt of a batch before the batch fails.</summary>
    public int MaxAttempts { get; init; } = 8;
}
