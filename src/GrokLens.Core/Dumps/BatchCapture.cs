using System.Diagnostics;
using GrokLens.Engine;
using GrokLens.Interventions;

namespace GrokLens.Dumps;

/// <summary>What a batch capture stores.</summary>
public sealed record BatchOptions
{
    /// <summary>Hook names or glob patterns: captured raw, or (with <see cref="Reduce"/>) reduced per neuron.</summary>
    public IReadOnlyList<string> Hooks { get; init; } = [];

    public IReadOnlyList<Intervention> Interventions { get; init; } = [];

    /// <summary>Store reductions (expert usage, per-neuron mean/max, routing statistics) instead of raw tensors.</summary>
    public bool Reduce { get; init; }

    public long ShardBytes { get; init; } = DumpFormat.DefaultShardBytes;

    /// <summary>Write the manifest at least every this many prompts (bounds the work an abrupt kill loses).</summary>
    public int CommitEvery { get; init; } = 64;

    /// <summary>Discard an existing dump in the folder instead of resuming it.</summary>
    public bool Overwrite { get; init; }
}

/// <param name="Done">Prompts finished so far, including those found finished on resume.</param>
/// <param name="Total">Prompts in the file.</param>
/// <param name="Resumed">Prompts that were already in the dump when this run started.</param>
/// <param name="Tokens">Tokens run in this session.</param>
/// <param name="Elapsed">Time since this session started.</param>
public sealed record BatchProgress(int Done, int Total, int Resumed, long Tokens, TimeSpan Elapsed);

/// <summary>
/// Runs many prompts into one dump folder. Runs are committed (data files, then the manifest) every shard's worth of
/// bytes, every <see cref="BatchOptions.CommitEvery"/> prompts and on cancellation; rerunning on the same folder skips
/// every prompt the manifest lists, so an interrupted batch resumes without redoing or duplicating finished prompts.
/// A prompt whose text or tokens changed since is an error, as is resuming with another model, hooks or interventions.
/// </summary>
public static class BatchCapture
{
    public static DumpManifest Run(IModelEngine model, IReadOnlyList<BatchPrompt> prompts, string folder, BatchOptions options,
        IProgress<BatchProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (options.Interventions.Any(i => i.Enabled && i is PatchActivation))
            throw new ArgumentException("patch_activation needs a source run, which a batch has not; remove it from the interventions.");
        folder = Path.GetFullPath(folder);
        var resume = PrepareFolder(folder, options.Overwrite);

        var reducer = options.Reduce ? new ActivationReducer(model.Config, model.ResolveHooks(options.Hooks)) : null;
        var capture = reducer is null ? model.ResolveHooks(options.Hooks) : [];
        var runOptions = new RunOptions { Capture = capture, Interventions = options.Interventions, Reduce = reducer?.Hooks };
        var tokens = prompts.ToDictionary(p => p.Id, p => Tokens(model, p), StringComparer.Ordinal); // Bad prompts fail before any work.
        var interventionsJson = InterventionJson.Serialize(options.Interventions);
        var modelInfo = DumpDescriptions.Model(model);
        try
        {
            if (resume is not null)
            {
                CheckCompatible(resume, model, modelInfo, options, reducer, capture, interventionsJson, tokens);
                reducer?.Restore(resume);
            }
            using var builder = new DumpBuilder(new FolderDumpSink(folder), model.Config, modelInfo, DumpDescriptions.Tokenizer(model.Tokenizer),
                new DumpBuildOptions
                {
                    Kind = options.Reduce ? DumpFormat.ReductionsKind : DumpFormat.ActivationsKind,
                    ShardBytes = options.ShardBytes,
                    PrefixRunIds = true,
                }, resume?.Manifest);
            resume?.Dispose();
            resume = null;

            int resumed = prompts.Count(p => builder.RunIds.Contains(p.Id)), done = resumed, sinceCommit = 0;
            long tokenCount = 0;
            var clock = Stopwatch.StartNew();
            progress?.Report(new BatchProgress(done, prompts.Count, resumed, 0, TimeSpan.Zero));
            try
            {
                // The engine may run several prompts at once (a cluster's pipeline replicas) but hands results back in order.
                var todo = prompts.Where(p => !builder.RunIds.Contains(p.Id)).ToList();
                using var results = model.RunMany(todo.Select(p => tokens[p.Id]), runOptions, cancellation).GetEnumerator();
                foreach (var prompt in todo)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var ids = tokens[prompt.Id];
                    if (!results.MoveNext()) throw new InvalidOperationException($"The engine returned no result for prompt '{prompt.Id}'.");
                    using (var run = results.Current)
                    {
                        if (reducer is not null) reducer.Add(run.Reduction ?? throw new InvalidOperationException("The engine returned no reductions."));
                        builder.Add(reducer is null
                            ? DumpWriter.FromRun(model, run, prompt.Id, prompt.Prompt, options.Interventions)
                            : new DumpRunContent(prompt.Id, prompt.Prompt, ids, DumpDescriptions.Pieces(model.Tokenizer, ids), options.Interventions, []));
                    }
                    done++;
                    sinceCommit++;
                    tokenCount += ids.Count;
                    if (builder.ShouldCommit || sinceCommit >= options.CommitEvery)
                    {
                        Commit(builder, reducer, finish: false);
                        sinceCommit = 0;
                    }
                    progress?.Report(new BatchProgress(done, prompts.Count, resumed, tokenCount, clock.Elapsed));
                }
            }
            catch (OperationCanceledException)
            {
                Commit(builder, reducer, finish: false); // Keep what is finished; the rerun continues from here.
                throw;
            }
            return Commit(builder, reducer, finish: true);
        }
        finally
        {
            resume?.Dispose();
            reducer?.Dispose();
        }
    }

    private static DumpManifest Commit(DumpBuilder builder, ActivationReducer? reducer, bool finish)
    {
        using var state = reducer?.State();
        return finish ? builder.Finish(state) : builder.Commit(state);
    }

    private static IReadOnlyList<int> Tokens(IModelEngine model, BatchPrompt prompt)
    {
        try
        {
            var ids = prompt.TokenIds ?? model.Encode(prompt.Prompt!);
            model.CheckSequence(ids);
            return ids;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException($"prompt '{prompt.Id}': {e.Message}", e);
        }
    }

    /// <summary>Opens the dump to resume (validated), or returns null for a fresh start in an empty or new folder.</summary>
    private static DumpReader? PrepareFolder(string folder, bool overwrite)
    {
        if (File.Exists(folder)) throw new IOException($"{folder} is a file; batch writes a dump folder.");
        if (Directory.Exists(folder) && overwrite)
        {
            GrokLens.Files.OwnedTemporaryFolder.DeleteQuietly(folder);
            if (Directory.Exists(folder)) throw new IOException($"{folder} could not be removed for --overwrite.");
        }
        Directory.CreateDirectory(folder);
        if (!File.Exists(Path.Combine(folder, DumpFormat.ManifestFileName)))
        {
            if (Directory.EnumerateFileSystemEntries(folder).Any(e => !IsLeftover(Path.GetFileName(e))))
                throw new IOException($"{folder} is not empty and holds no dump; choose another folder.");
            RemoveLeftovers(folder, keep: new HashSet<string>());
            return null;
        }
        var reader = DumpReader.Open(folder);
        RemoveLeftovers(folder, keep: reader.Manifest.Files.Select(f => f.Name).Append(DumpFormat.ManifestFileName).ToHashSet());
        return reader;
    }

    /// <summary>Files an interrupted commit may leave: temporaries and data files the manifest does not (yet) list.</summary>
    private static bool IsLeftover(string name) =>
        name.EndsWith(".tmp", StringComparison.Ordinal) || (DumpFormat.IsSafeFileName(name) && (name.StartsWith("data-") || name.StartsWith("reductions-")));

    private static void RemoveLeftovers(string folder, IReadOnlySet<string> keep)
    {
        foreach (var path in Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(path);
            if (!keep.Contains(name) && IsLeftover(name)) File.Delete(path);
        }
    }

    private static void CheckCompatible(DumpReader resume, IModelEngine loaded, DumpModelInfo model, BatchOptions options, ActivationReducer? reducer,
        IReadOnlyList<string> capture, string interventionsJson, Dictionary<string, IReadOnlyList<int>> tokens)
    {
        var manifest = resume.Manifest;
        string Problem(string what) => $"{resume.Location} was started with {what}; finish it with the same settings or pass --overwrite.";
        bool sameWeights = manifest.Model.HasWeights ? DumpDescriptions.IsModelOf(loaded, manifest.Model) : !model.HasWeights;
        if (!sameWeights || manifest.Model.Config.ToJsonString() != model.Config.ToJsonString())
            throw new ArgumentException(Problem($"other model weights or config (model '{manifest.Model.Name}')"));
        var kind = options.Reduce ? DumpFormat.ReductionsKind : DumpFormat.ActivationsKind;
        if (manifest.Kind != kind) throw new ArgumentException(Problem($"kind '{manifest.Kind}'"));
        foreach (var run in manifest.Runs)
        {
            if (reducer is null && !run.Hooks.Select(h => h.Name).SequenceEqual(capture))
                throw new ArgumentException(Problem($"other hooks ({string.Join(", ", run.Hooks.Take(4).Select(h => h.Name))}…)"));
            if (InterventionJson.Serialize(DumpReader.Interventions(run)) != interventionsJson)
                throw new ArgumentException(Problem("other interventions"));
            if (tokens.TryGetValue(run.Id, out var ids) && !ids.SequenceEqual(run.TokenIds))
                throw new ArgumentException($"prompt '{run.Id}' changed since it was captured in {resume.Location}; use new ids or --overwrite.");
        }
    }
}
