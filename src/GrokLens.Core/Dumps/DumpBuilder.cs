using System.Text.Json.Nodes;
using GrokLens.Checkpoints;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Dumps;

/// <summary>
/// Writes a dump run by run. <see cref="Add"/> keeps a run's tensors (as stored: float32, indices int32) in memory;
/// <see cref="Commit"/> writes them to new data files of at most <see cref="DumpBuildOptions.ShardBytes"/> tensor bytes
/// (a bigger tensor gets a file of its own), then the manifest listing them. A run is in the manifest only once all
/// its tensors are on disk, which is what lets a batch capture resume. <see cref="Finish"/> marks the dump complete.
/// </summary>
public sealed partial class DumpBuilder : IDisposable
{
    private readonly IDumpSink sink;
    private readonly DumpBuildOptions options;
    private readonly Dictionary<string, string> meanings;
    private readonly List<DumpRun> runs;
    private readonly List<DumpFile> files;
    private readonly List<(DumpRun Run, List<(DumpTensor Entry, Tensor Tensor)> Tensors)> pending = [];
    private readonly HashSet<string> runIds;
    private DumpReductions? reductions;
    private int nextFileNumber;
    private long pendingBytes;
    private bool finished;

    /// <param name="sink">Folder or zip.</param>
    /// <param name="config">The model's config (hook meanings).</param>
    /// <param name="model">Model description (<see cref="DumpDescriptions.Model"/>).</param>
    /// <param name="tokenizer">Tokenizer description, null for token ids only.</param>
    /// <param name="options">Kind, shard bound, run-id prefixes.</param>
    /// <param name="resume">The manifest of an incomplete dump in the same folder to continue.</param>
    public DumpBuilder(IDumpSink sink, GrokConfig config, DumpModelInfo model, DumpTokenizerInfo? tokenizer,
        DumpBuildOptions? options = null, DumpManifest? resume = null)
    {
        this.sink = sink;
        this.options = options ?? new DumpBuildOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(this.options.ShardBytes);
        Model = model;
        Tokenizer = tokenizer;
        meanings = HookPoints.All(config).ToDictionary(h => h.Name, h => h.Meaning);
        runs = resume is null ? [] : [.. resume.Runs];
        files = resume is null ? [] : [.. resume.Files];
        reductions = resume?.Reductions;
        Created = resume?.CreatedUtc ?? DateTimeOffset.UtcNow;
        runIds = runs.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        // Continue after the highest number in use, so no file a manifest names is ever written again.
        nextFileNumber = files.Select(f => FileNumber().Match(f.Name)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max() + 1;
    }

    public DumpModelInfo Model { get; }
    public DumpTokenizerInfo? Tokenizer { get; }
    public DateTimeOffset Created { get; }

    /// <summary>Ids of the runs written or waiting to be written.</summary>
    public IReadOnlyCollection<string> RunIds => runIds;

    /// <summary>Runs whose data is on disk (the manifest lists them).</summary>
    public int CommittedRuns => runs.Count;

    /// <summary>True when the runs waiting in memory hold at least a shard's worth of bytes.</summary>
    public bool ShouldCommit => pendingBytes >= options.ShardBytes;

    /// <summary>Copies a run's tensors; nothing is written until <see cref="Commit"/>.</summary>
    public void Add(DumpRunContent run)
    {
        ObjectDisposedException.ThrowIf(finished, this);
        if (!DumpFormat.IsValidRunId(run.Id))
            throw new ArgumentException($"Run id '{run.Id}' is not valid: use 1–64 letters, digits, '_', '-' or '.'.");
        if (runIds.Contains(run.Id)) throw new ArgumentException($"Run id '{run.Id}' is already in this dump.");
        if (options.Kind == DumpFormat.ReductionsKind && run.Hooks.Count > 0)
            throw new ArgumentException("A reductions dump stores no per-run tensors.");
        var stored = new List<(DumpTensor, Tensor)>();
        try
        {
            foreach (var (hook, tensor) in run.Hooks)
            {
                var copy = StoredCopy(tensor);
                stored.Add((new DumpTensor
                {
                    Name = hook,
                    File = "",
                    Tensor = DumpFormat.TensorName(run.Id, hook, options.PrefixRunIds),
                    Dtype = SafetensorsDTypes.FromScalarType(copy.dtype)!.Value.HeaderName(),
                    Shape = copy.shape,
                    Meaning = meanings.GetValueOrDefault(hook, ""),
                }, copy));
                pendingBytes += copy.NumberOfElements * copy.ElementSize;
            }
        }
        catch
        {
            foreach (var (_, tensor) in stored) tensor.Dispose();
            throw;
        }
        var entry = new DumpRun
        {
            Id = run.Id,
            Prompt = run.Prompt,
            TokenIds = run.TokenIds.ToArray(),
            Pieces = run.Pieces?.ToArray(),
            Interventions = (JsonArray)JsonNode.Parse(InterventionJson.Serialize(run.Interventions))!,
            Hooks = [],
        };
        pending.Add((entry, stored));
        runIds.Add(run.Id);
    }

    /// <summary>
    /// Writes the waiting runs' tensors and, in a reductions dump, the reduction state that includes them; then the
    /// manifest (folders only: a zip gets its manifest at <see cref="Finish"/>).
    /// </summary>
    public DumpManifest Commit(DumpReductionState? reductionState = null) => Write(reductionState, complete: false);

    /// <summary>Commits and marks the dump complete.</summary>
    public DumpManifest Finish(DumpReductionState? reductionState = null)
    {
        var manifest = Write(reductionState, complete: true);
        finished = true;
        return manifest;
    }

    private DumpManifest Write(DumpReductionState? reductionState, bool complete)
    {
        ObjectDisposedException.ThrowIf(finished, this);
        if (options.Kind == DumpFormat.ReductionsKind && reductionState is null && pending.Count > 0)
            throw new InvalidOperationException("A reductions dump commits its runs together with the reductions that include them.");

        var written = WriteShards();
        string? replacedReductions = null;
        if (reductionState is not null)
        {
            replacedReductions = reductions?.Tensors.FirstOrDefault()?.File;
            reductions = WriteReductions(reductionState);
        }
        runs.AddRange(written);
        if (replacedReductions is not null) files.RemoveAll(f => f.Name == replacedReductions);

        var manifest = new DumpManifest
        {
            Format = DumpFormat.Name,
            FormatVersion = DumpFormat.Version,
            GroklensVersion = GrokLensInfo.Version,
            CreatedUtc = Created,
            Kind = options.Kind,
            Complete = complete,
            Model = Model,
            Tokenizer = Tokenizer,
            Runs = runs.ToList(),
            Reductions = reductions,
            Files = files.ToList(),
        };
        if (sink.CanRewrite || complete)
        {
            var json = System.Text.Encoding.UTF8.GetBytes(manifest.ToJson());
            sink.Write(DumpFormat.ManifestFileName, stream => stream.Write(json));
        }
        // Only once the manifest no longer names it may the previous reductions file go.
        if (replacedReductions is not null && sink.CanRewrite) sink.Delete(replacedReductions);
        return manifest;
    }

    /// <summary>Packs the waiting tensors greedily, in order, into files of at most ShardBytes each.</summary>
    private List<DumpRun> WriteShards()
    {
        var shards = new List<List<(DumpTensor Entry, Tensor Tensor)>>();
        long current = 0;
        foreach (var item in pending.SelectMany(p => p.Tensors))
        {
            long bytes = item.Tensor.NumberOfElements * item.Tensor.ElementSize;
            if (shards.Count == 0 || (current + bytes > options.ShardBytes && shards[^1].Count > 0))
            {
                shards.Add([]);
                current = 0;
            }
            shards[^1].Add(item);
            current += bytes;
        }

        var fileOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            var name = DumpFormat.DataFileName(nextFileNumber++);
            files.Add(WriteSafetensors(name, shard.Select(s => (s.Entry.Tensor, s.Tensor))));
            foreach (var (entry, _) in shard) fileOf[entry.Tensor] = name;
        }

        var committed = pending
            .Select(p => p.Run with { Hooks = p.Tensors.Select(t => t.Entry with { File = fileOf[t.Entry.Tensor] }).ToList() })
            .ToList();
        DisposePending();
        return committed;
    }

    private DumpReductions WriteReductions(DumpReductionState state)
    {
        var name = ReductionsFileName(nextFileNumber++);
        files.Add(WriteSafetensors(name, state.Tensors.Select(t => (t.Name, t.Tensor))));
        return state.Summary with
        {
            Tensors = state.Tensors.Select(t => new DumpTensor
            {
                Name = t.Name,
                File = name,
                Tensor = t.Name,
                Dtype = SafetensorsDTypes.FromScalarType(t.Tensor.dtype)!.Value.HeaderName(),
                Shape = t.Tensor.shape,
                Meaning = t.Meaning,
            }).ToList(),
        };
    }

    private DumpFile WriteSafetensors(string name, IEnumerable<(string, Tensor)> tensors)
    {
        DumpFile? file = null;
        var metadata = new Dictionary<string, string> { ["format"] = DumpFormat.Name };
        sink.Write(name, stream =>
        {
            using var hashing = new HashingStream(stream);
            SafetensorsWriter.WriteTo(hashing, tensors, metadata);
            file = new DumpFile { Name = name, Bytes = hashing.BytesWritten, Sha256 = hashing.Sha256Hex() };
        });
        return file!;
    }

    private static string ReductionsFileName(int number) => $"reductions-{number:D5}.safetensors";

    [System.Text.RegularExpressions.GeneratedRegex(@"-(\d{5,})\.safetensors$")]
    private static partial System.Text.RegularExpressions.Regex FileNumber();

    /// <summary>The stored form: float32 for floating types, int32 for integer indices; always a fresh copy.</summary>
    private static Tensor StoredCopy(Tensor tensor)
    {
        var type = tensor.dtype switch
        {
            ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte => ScalarType.Int32,
            ScalarType.Bool => ScalarType.Byte,
            _ => ScalarType.Float32,
        };
        using var detached = tensor.detach();
        return detached.to(type, CPU, copy: true).contiguous();
    }

    private void DisposePending()
    {
        foreach (var (_, tensors) in pending)
            foreach (var (_, tensor) in tensors) tensor.Dispose();
        pending.Clear();
        pendingBytes = 0;
    }

    public void Dispose() => DisposePending();
}

/// <summary>How a <see cref="DumpBuilder"/> stores runs.</summary>
public sealed record DumpBuildOptions
{
    /// <summary><see cref="DumpFormat.ActivationsKind"/> or <see cref="DumpFormat.ReductionsKind"/>.</summary>
    public string Kind { get; init; } = DumpFormat.ActivationsKind;

    /// <summary>Upper bound on the tensor bytes of one data file (a single larger tensor gets a file of its own).</summary>
    public long ShardBytes { get; init; } = DumpFormat.DefaultShardBytes;

    /// <summary>Name tensors "run/hook" (several runs) instead of "hook" (a single-run dump).</summary>
    public bool PrefixRunIds { get; init; } = true;
}

/// <summary>The reductions to store at a commit: the summary for the manifest and the tensors for the reductions file.</summary>
public sealed record DumpReductionState(DumpReductions Summary, IReadOnlyList<(string Name, Tensor Tensor, string Meaning)> Tensors)
    : IDisposable
{
    public void Dispose()
    {
        foreach (var (_, tensor, _) in Tensors) tensor.Dispose();
    }
}
