using GrokLens.Cluster.Contracts;
using GrokLens.Cluster.Grains;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Hooks;

namespace GrokLens.Cluster;

public sealed partial class ClusterModel
{
    /// <summary>
    /// Generation as <see cref="TextGenerator"/> does it, with each layer's KV cache in the shard that owns the layer: the
    /// prompt goes through the pipeline once, then one position per step; the last shard returns the last position's
    /// logits and the token is drawn here with the same sampler, so the tokens equal the in-process ones. The sessions
    /// (and caches) are closed when the enumeration ends, however it ends.
    /// </summary>
    public IEnumerable<GeneratedToken> Generate(IReadOnlyList<int> prompt, SamplingOptions options, GenerationRequest? request = null,
        CancellationToken cancellation = default)
    {
        CheckSequence(prompt);
        options.Validated();
        int room = Config.MaxPositions - prompt.Count;
        if (room <= 0)
            throw new ArgumentException($"The prompt fills the model's whole context of {Config.MaxPositions} tokens; nothing can be generated.");
        var plan = Plan(new RunOptions { Interventions = request?.Interventions ?? [], Source = request?.Source });
        return Stream(prompt, options, Math.Min(options.MaxNewTokens, room), plan, cancellation);
    }

    private IEnumerable<GeneratedToken> Stream(IReadOnlyList<int> prompt, SamplingOptions sampling, int maxNewTokens, RunPlan plan,
        CancellationToken cancellation)
    {
        var shards = layout.Pipeline(NextPipeline());
        var grains = shards.Select(k => client.GetGrain<IShardGrain>(k.ToString())).ToArray();
        var session = Guid.NewGuid();
        var downstream = shards.Skip(1).Select(k => k.ToString()).ToArray();
        using var keepAlive = new Timer(_ => KeepAlive(grains, session), null, options.KeepAliveInterval, options.KeepAliveInterval);
        try
        {
            Watch(shards, Task.WhenAll(grains.Select((g, i) => g.Open(OpenFor(i, shards, session, plan, prompt.Count + maxNewTokens)))),
                cancellation).GetAwaiter().GetResult();
            var entry = ShardThroughItsGateway(shards, 0).GetAwaiter().GetResult();
            var sampler = new TokenSampler(sampling);
            int? eos = sampling.StopAtEos ? Tokenizer?.EosId : null;
            var next = prompt.Select(id => (long)id).ToArray();
            int position = 0;
            for (int step = 0; step < maxNewTokens; step++)
            {
                cancellation.ThrowIfCancellationRequested();
                var reply = Watch(shards, entry.Step(new StepRequest
                {
                    SessionId = session, Tokens = next, Downstream = downstream, LastPositionOnly = true,
                }), cancellation).GetAwaiter().GetResult();
                position += next.Length;
                float[] lastLogits;
                using (var logits = reply.Logits.ToTensor()) lastLogits = logits[0, -1].data<float>().ToArray();
                var (id, probability) = sampler.Next(lastLogits);
                yield return new GeneratedToken(id, position, probability, Tokenizer?.Decode([id]));
                if (id == eos) yield break;
                next = [id];
            }
        }
        finally
        {
            CloseQuietly(grains, session);
        }
    }

    /// <summary>Tells the shards a session is still wanted; a client that is gone (disposed) just stops telling.</summary>
    private static void KeepAlive(IEnumerable<IShardGrain> grains, Guid session)
    {
        foreach (var grain in grains)
        {
            try
            {
                _ = grain.KeepAlive([session]).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            }
            catch (Exception)
            {
                // The client was disposed: its sessions run out their lease on the shards.
            }
        }
    }
}
