using System.Diagnostics;
using GrokLens.Cluster.Contracts;
using GrokLens.Cluster.Hosting;
using GrokLens.Cluster.Placement;
using GrokLens.Dumps;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace GrokLens.Cluster.Grains;

/// <summary>
/// Runs its layers of the model this silo loaded. Reentrant: while it waits for the next shard of one call it can run
/// another call's layers (the model itself runs one forward call at a time). Sessions not heard of for the lease
/// (<see cref="ShardOptions.SessionLease"/>) are freed, so a client that went away leaves no KV caches behind.
/// </summary>
[ShardPlacement]
[Reentrant]
public sealed class ShardGrain(ShardModels models, ILocalSiloDetails silo, IOptions<ShardOptions> options, ILogger<ShardGrain> logger)
    : Grain, IShardGrain
{
    private readonly Dictionary<Guid, ShardSession> sessions = new();
    private readonly Dictionary<Guid, Handover> handoffs = new();

    /// <summary>One-trip sessions closed lately (kept for a lease): a collection or step arriving after the close is answered.</summary>
    private readonly Dictionary<Guid, DateTime> closed = new();
    private ShardKey key;
    private HostedModel hosted = null!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        key = ShardKey.Parse(this.GetPrimaryKeyString());
        hosted = models.Find(key.Model, key.Layers) ?? throw new ArgumentException(
            $"Silo {silo.SiloAddress} ({Environment.MachineName}) holds no layers {key.Layers} of model '{key.Model}'.");
        if (key.Layers.Last >= hosted.Config.NumLayers)
            throw new ArgumentException($"Model '{key.Model}' has layers 0-{hosted.Config.NumLayers - 1}; {key.Describe()} does not exist.");
        var lease = options.Value.SessionLease;
        this.RegisterGrainTimer(ExpireSessions, new GrainTimerCreationOptions { DueTime = lease / 4, Period = lease / 4, Interleave = true });
        return Task.CompletedTask;
    }

    public Task<ShardStatus> Describe() => Task.FromResult(new ShardStatus
    {
        Key = key.ToString(),
        Host = Environment.MachineName,
        Silo = silo.SiloAddress.ToParsableString(),
        WeightBytes = hosted.WeightBytes,
        CacheBytes = sessions.Values.Sum(s => s.CacheBytes),
        Sessions = sessions.Count,
        ProcessBytes = Process.GetCurrentProcess().WorkingSet64,
        Detail = hosted.Loaded.Format,
    });

    public Task<ModelFiles> Files()
    {
        var (fingerprint, files) = hosted.Loaded.WeightFiles();
        var tokenizerFiles = new Dictionary<string, byte[]>();
        foreach (var name in new[] { Loading.ModelLoader.TokenizerFileName, Training.CompactVocabulary.FileName })
        {
            var path = Path.Combine(hosted.Folder, name);
            if (File.Exists(path)) tokenizerFiles[name] = File.ReadAllBytes(path);
        }
        return Task.FromResult(new ModelFiles
        {
            ConfigJson = hosted.Config.ToJson(),
            TokenizerFiles = tokenizerFiles,
            WeightsFingerprint = fingerprint,
            WeightFileNames = files.Select(f => f.Name).ToArray(),
            WeightFileBytes = files.Select(f => f.Bytes).ToArray(),
            WeightFileFingerprints = files.Select(f => f.Fingerprint!).ToArray(),
        });
    }

    public Task Open(OpenRequest request)
    {
        if (sessions.ContainsKey(request.SessionId)) throw new ArgumentException($"Session {request.SessionId} is already open on {key.Describe()}.");
        if (closed.ContainsKey(request.SessionId)) throw new InvalidOperationException($"Session {request.SessionId} was closed on {key.Describe()}.");
        sessions[request.SessionId] = new ShardSession(hosted, key.Layers, request);
        return Task.CompletedTask;
    }

    public async Task<StepReply> Step(StepRequest request)
    {
        var id = request.SessionId;
        ClusterTrace.Mark(id, "step.in");
        var open = request.Open is { Length: > 0 } opens ? opens[0] : null;
        bool last = request.Downstream.Length == 0;
        // A one-trip pass: a session nobody collects is freed with its pass; the last shard's collected session finishes
        // (captures, logits) with it, the others' after passing the residual on, so the next shard does not wait for that.
        bool closeAfter = open is { Collected: false }, finishNow = open is { Collected: true } && last;
        TensorData output;
        CloseReply? finished = null;
        try
        {
            if (open is not null) await Open(open);
            var session = Session(id);
            session.Busy++;
            try
            {
                (output, finished) = await hosted.Run(() =>
                {
                    ClusterTrace.Mark(id, "run.start");
                    var result = session.Forward(request);
                    ClusterTrace.Mark(id, "run.end");
                    // A full pass's logits are the captured 'logits' hook, if captured: sent once.
                    return (result, finishNow ? session.Finish(session.CapturesLogits && !request.LastPositionOnly ? null : result) : null);
                });
                ClusterTrace.Mark(id, "run.cont");
            }
            finally
            {
                session.Busy--;
                session.Touch();
            }
        }
        catch
        {
            if (open is not null) Discard(id);
            throw;
        }
        if (finished is not null)
        {
            Deliver(id, handoff => handoff.TrySetResult(finished));
            Discard(id, keepHandoff: true);
        }
        if (last)
        {
            if (closeAfter) Discard(id);
            return finishNow ? new StepReply() : new StepReply { Logits = output };
        }
        var downstream = GrainFactory.GetGrain<IShardGrain>(request.Downstream[0]).Step(new StepRequest
        {
            SessionId = id,
            Tokens = request.Tokens,
            Residual = output,
            Downstream = request.Downstream[1..],
            LastPositionOnly = request.LastPositionOnly,
            Open = request.Open?[1..],
        });
        ClusterTrace.Mark(id, "down.sent");
        if (closeAfter) Discard(id);
        if (open is { Collected: true }) await HandOver(id);
        var reply = await downstream;
        ClusterTrace.Mark(id, "down.reply");
        return reply;
    }

    /// <summary>Finishes a passed session on the model's thread and hands its results over to <see cref="Collect"/>.</summary>
    private async Task HandOver(Guid id)
    {
        if (!sessions.TryGetValue(id, out var session)) return; // Closed meanwhile: Close answered the collection.
        try
        {
            var finished = await hosted.Run(() => session.Finish());
            ClusterTrace.Mark(id, "handed.over");
            Deliver(id, handoff => handoff.TrySetResult(finished));
        }
        catch (Exception e)
        {
            Deliver(id, handoff => handoff.TrySetException(e));
        }
        finally
        {
            Discard(id, keepHandoff: true);
        }
    }

    public async Task<CloseReply> Collect(Guid sessionId)
    {
        ClusterTrace.Mark(sessionId, "collect.in");
        if (closed.ContainsKey(sessionId) && !handoffs.ContainsKey(sessionId)) return new CloseReply { Missing = true };
        try
        {
            return await Handoff(sessionId).Reply.Task;
        }
        finally
        {
            handoffs.Remove(sessionId);
            ClusterTrace.Mark(sessionId, "collect.out");
        }
    }

    public async Task<CloseReply> Close(Guid sessionId)
    {
        closed[sessionId] = DateTime.UtcNow;
        if (handoffs.Remove(sessionId, out var handoff)) handoff.Reply.TrySetResult(new CloseReply { Missing = true });
        // After any forward call of the session still queued on the model's thread.
        if (sessions.Remove(sessionId, out var session)) await hosted.Run(() => { session.Dispose(); return true; });
        return new CloseReply();
    }

    /// <summary>
    /// Closes a one-trip session that is not running (its pass ended or failed); unless <paramref name="keepHandoff"/>, a
    /// collection of it not answered yet gets a missing reply. Remembered as closed, so a late collection is answered too.
    /// </summary>
    private void Discard(Guid id, bool keepHandoff = false)
    {
        closed[id] = DateTime.UtcNow;
        if (!keepHandoff && handoffs.Remove(id, out var handoff)) handoff.Reply.TrySetResult(new CloseReply { Missing = true });
        if (sessions.Remove(id, out var session)) session.Dispose();
    }

    /// <summary>Answers the collection of a session's results, waiting or still to come, unless the session was closed meanwhile.</summary>
    private void Deliver(Guid id, Action<TaskCompletionSource<CloseReply>> answer)
    {
        if (!closed.ContainsKey(id)) answer(Handoff(id).Reply);
    }

    /// <summary>The hand-over of a collected session's results, made by whichever comes first: the pass or the collection.</summary>
    private Handover Handoff(Guid id)
    {
        if (!handoffs.TryGetValue(id, out var handoff)) handoffs[id] = handoff = new Handover();
        return handoff;
    }

    private sealed class Handover
    {
        public TaskCompletionSource<CloseReply> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public DateTime SinceUtc { get; } = DateTime.UtcNow;
    }

    public Task<TensorData> ReadOut(TensorData residual)
    {
        if (key.Layers.Last != hosted.Config.NumLayers - 1)
            throw new ArgumentException($"{key.Describe()} does not hold the final norm and head; ask the last shard.");
        return hosted.Run(() =>
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            using var noGrad = TorchSharp.torch.no_grad();
            var model = hosted.Model;
            return TensorData.From(model.Logits(model.finalNorm.Forward(residual.ToTensor().to(model.Device))));
        });
    }

    public Task KeepAlive(Guid[] sessionIds)
    {
        foreach (var id in sessionIds)
            if (sessions.TryGetValue(id, out var session)) session.Touch();
        return Task.CompletedTask;
    }

    private ShardSession Session(Guid id) => sessions.TryGetValue(id, out var session) ? session
        : throw new InvalidOperationException($"Session {id} is not open on {key.Describe()} (closed, or freed after " +
                                              $"{options.Value.SessionLease.TotalSeconds:0} s without a call).");

    private Task ExpireSessions()
    {
        var limit = DateTime.UtcNow - options.Value.SessionLease;
        foreach (var id in closed.Where(pair => pair.Value < limit).Select(pair => pair.Key).ToList()) closed.Remove(id);
        // Results nobody collected within a lease, and collections whose pass never came while a client could still wait.
        var given = DateTime.UtcNow - ClusterClientFactory.ResponseTimeout;
        foreach (var (id, handoff) in handoffs.Where(pair => pair.Value.Reply.Task.IsCompleted ? pair.Value.SinceUtc < limit
                     : pair.Value.SinceUtc < given && !sessions.ContainsKey(pair.Key)).ToList())
        {
            handoffs.Remove(id);
            handoff.Reply.TrySetResult(new CloseReply { Missing = true });
        }
        foreach (var (id, session) in sessions.Where(pair => pair.Value.Busy == 0 && pair.Value.LastUsedUtc < limit).ToList())
        {
            sessions.Remove(id);
            session.Dispose();
            logger.LogInformation("Freed session {Session} of {Client} on {Shard}: no call for {Lease}.", id, session.Client, key, options.Value.SessionLease);
        }
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        foreach (var session in sessions.Values) session.Dispose();
        sessions.Clear();
        foreach (var handoff in handoffs.Values) handoff.Reply.TrySetResult(new CloseReply { Missing = true });
        handoffs.Clear();
        return Task.CompletedTask;
    }
}

/// <summary>Shard settings of a silo.</summary>
public sealed class ShardOptions
{
    /// <summary>A session (and its KV cache) not called for this long is freed: its client went away.</summary>
    public TimeSpan SessionLease { get; set; } = TimeSpan.FromSeconds(30);
}
