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
        sessions[request.SessionId] = new ShardSession(hosted, key.Layers, request);
        return Task.CompletedTask;
    }

    public async Task<StepReply> Step(StepRequest request)
    {
        if (request.OpenAndClose is { Length: > 0 } opens) await Open(opens[0]);
        var session = Session(request.SessionId);
        session.Busy++;
        TensorData output;
        try
        {
            output = await hosted.Run(() => session.Forward(request));
        }
        finally
        {
            session.Busy--;
            session.Touch();
        }
        // A one-trip pass frees this shard's session before the downstream shards run and its captures ride on the reply,
        // unless the client collects them itself (LeaveOpen).
        CloseReply? closed = request.OpenAndClose is null || request.LeaveOpen ? null : await Close(request.SessionId);
        StepReply reply;
        if (request.Downstream.Length == 0)
            reply = new StepReply { Logits = output };
        else
            reply = await GrainFactory.GetGrain<IShardGrain>(request.Downstream[0]).Step(new StepRequest
            {
                SessionId = request.SessionId,
                Tokens = request.Tokens,
                Residual = output,
                Downstream = request.Downstream[1..],
                LastPositionOnly = request.LastPositionOnly,
                OpenAndClose = request.OpenAndClose?[1..],
                LeaveOpen = request.LeaveOpen,
            });
        return closed is null ? reply : new StepReply { Logits = reply.Logits, Closed = [closed, .. reply.Closed] };
    }

    public async Task<CloseReply> Close(Guid sessionId) =>
        sessions.ContainsKey(sessionId) ? await Collect(sessionId) : new CloseReply();

    public async Task<CloseReply> Collect(Guid sessionId)
    {
        // Missing, not an error: the client tells a session lost to a restarted shard from a bad request.
        if (!sessions.Remove(sessionId, out var session)) return new CloseReply { Missing = true };
        try
        {
            return await hosted.Run(session.Finish);
        }
        finally
        {
            session.Dispose();
        }
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
        return Task.CompletedTask;
    }
}

/// <summary>Shard settings of a silo.</summary>
public sealed class ShardOptions
{
    /// <summary>A session (and its KV cache) not called for this long is freed: its client went away.</summary>
    public TimeSpan SessionLease { get; set; } = TimeSpan.FromSeconds(30);
}
