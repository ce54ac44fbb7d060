using System.Runtime.CompilerServices;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Model;
using GrokLens.Tokenization;
using GrokLens.Web.Services;

namespace GrokLens.Web.Models;

/// <summary>
/// A model resident in the <see cref="ModelRegistry"/>: its engine (<see cref="LoadedModel"/> in this process, or any
/// other <see cref="IModelEngine"/>), its
/// lease count (kept by the registry, under the registry's lock) and when it was last used, for least-recently-used
/// eviction. Work runs only while the model is leased, so an evicted model is never in use when it is disposed.
/// </summary>
public sealed class LocalModel : IWorkbenchModel, IDisposable
{
    private readonly IModelEngine model;
    private readonly ComputeQueue queue;
    private readonly Lazy<DumpModelInfo> dumpInfo;
    private int disposed;

    public LocalModel(IModelEngine model, ModelIdentity identity, ComputeQueue queue)
    {
        this.model = model;
        this.queue = queue;
        Identity = identity;
        Info = ModelInfo.From(model) with { Name = identity.Name }; // The catalogue's name (a cluster model's ends in @cluster).
        // Weights held in this process (a cluster engine holds its layers elsewhere).
        MemoryBytes = model is LoadedModel loaded ? loaded.WeightBytesByDevice.Values.Sum() : 0;
        dumpInfo = new Lazy<DumpModelInfo>(() => DumpDescriptions.Model(model));
    }

    public string Name => Identity.Name;
    public ModelIdentity Identity { get; }
    public GrokConfig Config => model.Config;
    public ITokenizer? Tokenizer => model.Tokenizer;
    public IReadOnlyList<string> HookNames => model.HookNames;
    public ModelInfo Info { get; }
    public long MemoryBytes { get; }

    /// <summary>The manifest's description of the model, weights fingerprint included (computed once, on first use).</summary>
    public DumpModelInfo DumpInfo => dumpInfo.Value;

    /// <summary>
    /// Whether a dump was made with this model's weights: by the fingerprint (computed once here), or for an older dump by
    /// the whole-file SHA-256 it recorded (<see cref="DumpDescriptions.IsModelOf"/>).
    /// </summary>
    public bool HasWeightsOf(DumpModelInfo dump) => dump.WeightsFingerprint is { } fingerprint
        ? DumpInfo.WeightsFingerprint == fingerprint
        : DumpDescriptions.IsModelOf(model, dump);

    /// <summary>Leases held now; the registry changes it under its lock.</summary>
    internal int Leases { get; set; }

    /// <summary>Registry clock tick of the last lease taken or returned.</summary>
    internal long LastUsed { get; set; }

    internal bool IsDisposed => Volatile.Read(ref disposed) != 0;

    public async Task<T> RunAsync<T>(Func<IModelEngine, T> work, IProgress<ModelWait>? wait, CancellationToken cancellation)
    {
        CheckUsable();
        using var turn = await queue.EnterAsync(this, ahead => wait?.Report(new ModelWait(Name, ModelWaitKind.Queued, ahead)), cancellation);
        wait?.Report(new ModelWait(Name, ModelWaitKind.Running));
        CheckUsable();
        return await Task.Run(() => work(model), cancellation);
    }

    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(IReadOnlyList<int> prompt, SamplingOptions sampling, IProgress<ModelWait>? wait,
        [EnumeratorCancellation] CancellationToken cancellation)
    {
        IEnumerator<GeneratedToken>? tokens = null;
        try
        {
            while (true)
            {
                // One forward pass per turn: the generator's state (its KV cache) lives in the enumerator, not in the model.
                var (more, token) = await RunAsync(m =>
                {
                    tokens ??= m.Generate(prompt, sampling, cancellation: cancellation).GetEnumerator();
                    return tokens.MoveNext() ? (true, tokens.Current) : (false, default!);
                }, wait, cancellation);
                if (!more) yield break;
                yield return token;
            }
        }
        finally
        {
            tokens?.Dispose(); // frees the KV cache; no forward pass runs at this point
        }
    }

    private void CheckUsable()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (Leases <= 0) throw new InvalidOperationException($"Model '{Name}' runs work only while leased (ModelRegistry): it could be unloaded meanwhile.");
    }

    public override string ToString() => $"{Name} ({Identity.Stamp})";

    /// <summary>Unloads the weights; the registry calls it only once no lease is left.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0) model.Dispose();
    }
}
