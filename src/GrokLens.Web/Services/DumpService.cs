using GrokLens.Analysis;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Files;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Model;
using GrokLens.Web.Models;
using GrokLens.Web.Views;
using Microsoft.Extensions.Options;

namespace GrokLens.Web.Services;

/// <summary>
/// Dumps in the workbench: writes a session's sequence as a dump zip (run again on the model that made it, leased from the
/// <see cref="ModelRegistry"/> and queued like every other piece of model work), and opens uploaded or server-side dumps
/// into the Explore views without running the model.
/// </summary>
public sealed class DumpService(ModelRegistry models, DumpCatalog catalog, IOptions<WorkbenchOptions> options)
{
    public DumpCatalog Catalog { get; } = catalog;
    public long MaxUploadBytes => options.Value.MaxDumpUploadBytes;

    /// <summary>
    /// Splits the dialog's text ("all", empty, or patterns separated by commas or white space outside <c>{a,b}</c>
    /// braces) into hook patterns; a malformed list is an <see cref="ArgumentException"/> saying what is wrong.
    /// </summary>
    public static IReadOnlyList<string> ParsePatterns(string? text)
    {
        var patterns = HookPatterns.Split(text);
        foreach (var pattern in patterns) HookPatterns.ToRegex(pattern);
        return patterns.Count == 0 || patterns.Any(p => p.Equals("all", StringComparison.OrdinalIgnoreCase)) ? ["*"] : patterns;
    }

    /// <summary>The hooks the patterns select on a model; an <see cref="UnknownHookException"/> names a pattern matching nothing.</summary>
    public static IReadOnlyList<string> ResolveHooks(IWorkbenchModel model, IReadOnlyList<string> patterns) =>
        HookPatterns.Resolve(patterns, model.HookNames);

    /// <summary>
    /// Runs the request's runs on the model that made them (each with its interventions, patches reading its source run)
    /// capturing the selected hooks, and writes the dump zip to a temporary file (deleted when the returned stream is
    /// closed), so the HTTP response can then be sent asynchronously. Several runs get their ids as tensor-name prefixes.
    /// </summary>
    public async Task<Stream> WriteZipAsync(DumpDownloadRequest request, IReadOnlyList<string> patterns, CancellationToken cancellation = default)
    {
        var hooks = ResolveHooks(request.Model, patterns);
        using var lease = await models.LeaseAsync(request.Model, cancellation: cancellation);
        return await lease.RunAsync<Stream>(model =>
        {
            var runs = new List<RunResult>();
            var file = StaleTemporaries.CreateFile(Path.GetTempPath(), $"{DownloadPrefix}{Guid.NewGuid():N}.zip");
            try
            {
                var contents = request.Runs.Select(r =>
                {
                    cancellation.ThrowIfCancellationRequested();
                    using var source = r.SourceTokenIds is null ? null
                        : model.Run(r.SourceTokenIds, new RunOptions { Capture = InterventionRunner.SourceHooks(model.Config, r.Interventions) });
                    var run = InterventionRunner.Run(model, r.TokenIds, r.Interventions, new RunOptions { Capture = hooks }, source?.Cache);
                    runs.Add(run);
                    return DumpWriter.FromRun(model, run, r.Id, r.Prompt, r.Interventions);
                }).ToList();
                DumpWriter.WriteZip(file, model, contents);
                file.Position = 0;
                return file;
            }
            catch
            {
                file.Dispose();
                throw;
            }
            finally
            {
                foreach (var run in runs) run.Dispose();
            }
        }, cancellation);
    }

    /// <summary>Opens an uploaded zip: refuses one over the size limit before reading it, then validates it fully.</summary>
    public async Task<OpenedDump> OpenUploadAsync(Stream upload, long size, string fileName, CancellationToken cancellation = default)
    {
        if (size > MaxUploadBytes) throw new DumpFormatException(fileName, TooLarge(size));
        // Spooled to disk first (an upload stream cannot seek); deleted when closed, swept if the server is killed meanwhile.
        await using var spool = StaleTemporaries.CreateFile(Path.GetTempPath(), $"{UploadPrefix}{Guid.NewGuid():N}.zip");
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await upload.ReadAsync(buffer, cancellation)) > 0)
        {
            total += read;
            if (total > MaxUploadBytes) throw new DumpFormatException(fileName, TooLarge(total));
            await spool.WriteAsync(buffer.AsMemory(0, read), cancellation);
        }
        spool.Position = 0;
        // Messages name the user's file, not the temporary one.
        return await OpenAsync(() => DumpReader.OpenZip(spool, UploadReadOptions, location: fileName), fileName, cancellation);
    }

    /// <summary>Opens a dump of the configured dumps folder by its name there (no paths).</summary>
    public Task<OpenedDump> OpenFromFolderAsync(string name, CancellationToken cancellation = default) =>
        OpenAsync(() => DumpReader.Open(Catalog.Resolve(name), ReadOptions, location: name), name, cancellation); // messages name the dump, not the server's path

    private DumpReadOptions ReadOptions => new() { MaxZipBytes = MaxUploadBytes };

    /// <summary>An upload's manifest is parsed in memory at a few times its size: far below what a local dump may have.</summary>
    public const long MaxUploadManifestBytes = 8L << 20;

    private DumpReadOptions UploadReadOptions => ReadOptions with { MaxManifestBytes = MaxUploadManifestBytes };

    /// <summary>Prefixes of the temporary files in the system's temporary folder (swept at start: <see cref="TemporarySweeper"/>).</summary>
    public const string DownloadPrefix = "groklens-download-";

    public const string UploadPrefix = "groklens-upload-";

    private string TooLarge(long size) =>
        $"the file is {Formatting.ByteSize.Format(size)}, over the upload limit of {Formatting.ByteSize.Format(MaxUploadBytes)} " +
        $"(setting {WorkbenchOptions.Section}:{nameof(WorkbenchOptions.MaxDumpUploadBytes)})";

    private async Task<OpenedDump> OpenAsync(Func<DumpReader> open, string name, CancellationToken cancellation)
    {
        var reader = await Task.Run(open, cancellation);
        try
        {
            if (reader.Manifest.Kind != DumpFormat.ActivationsKind || reader.Runs.Count == 0)
                throw new DumpFormatException(name, $"a '{reader.Manifest.Kind}' dump holds no per-run activations to view");
            var run = reader.Runs[0];
            return new OpenedDump(name, reader, run,
                await BuildAsync(() => OpenedDump.LoadCache(reader, run, name), reader.Manifest, reader.Config, run, cancellation));
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>The opened dump showing another of its runs (by id) in the Explore views; the dump moves to the returned object.</summary>
    public async Task<OpenedDump> ShowRunAsync(OpenedDump dump, string runId, CancellationToken cancellation = default)
    {
        var run = dump.Runs.FirstOrDefault(r => r.Id == runId)
                  ?? throw new ArgumentException($"The dump '{dump.Name}' has no run '{runId}'; its runs: {string.Join(", ", dump.Runs.Select(r => r.Id))}.");
        return dump.HandOver(run, await BuildAsync(() => dump.LoadCache(run), dump.Manifest, dump.Config, run, cancellation));
    }

    /// <summary>
    /// Token texts for a dump's run: the tokenizer of a resident model that is the dump's model (same weights), else
    /// the run's own pieces ("#id" for ids the run does not contain).
    /// </summary>
    public Task<Func<int, string>> TokenTextAsync(DumpManifest manifest, DumpRun run, CancellationToken cancellation = default) =>
        WithDumpModelAsync(manifest, model => ExploreResultBuilder.Text(model.Tokenizer), () => PieceText(run), cancellation);

    /// <summary>
    /// Logits [T, V] read from a run's last-layer residual (<see cref="LogitLens.Logits"/>) when the dump's model is
    /// resident; null when the run lacks that hook or its model is not resident. The caller disposes them.
    /// </summary>
    public Task<TorchSharp.torch.Tensor?> LogitsFromResidualAsync(DumpManifest manifest, GrokConfig config, ActivationCache cache,
        CancellationToken cancellation = default) =>
        cache.TryGet(HookPoints.Layer(config.NumLayers - 1, HookPoints.ResidPost), out var residual)
            ? WithDumpModelAsync<TorchSharp.torch.Tensor?>(manifest, model => LogitLens.Logits(model, residual), () => null, cancellation)
            : Task.FromResult<TorchSharp.torch.Tensor?>(null);

    /// <summary>
    /// Runs <paramref name="work"/> (queued) on a resident model that is the dump's model, i.e. has the same weights,
    /// whichever session loaded it; otherwise returns <paramref name="otherwise"/>'s value. Nothing is loaded for a dump.
    /// </summary>
    private async Task<T> WithDumpModelAsync<T>(DumpManifest manifest, Func<IModelEngine, T> work, Func<T> otherwise, CancellationToken cancellation)
    {
        if (!manifest.Model.HasWeights) return otherwise();
        using var lease = await Task.Run(() => models.LeaseResident(model => model.HasWeightsOf(manifest.Model)), cancellation);
        return lease is null ? otherwise() : await lease.RunAsync(work, cancellation);
    }

    /// <summary>
    /// Builds the views' arrays from a dump's run. When the dump's model is resident (same weights), its final
    /// norm and unembedding give the logit lens and its tokenizer the token texts; no forward pass runs either way.
    /// </summary>
    private async Task<ExploreResult> BuildAsync(Func<ActivationCache> load, DumpManifest manifest, GrokConfig config, DumpRun run,
        CancellationToken cancellation)
    {
        using var cache = await Task.Run(load, cancellation);
        cache.TryGet(HookPoints.Logits, out var logits);
        var source = new ExploreSource(config, manifest.Model.Name, run.TokenIds, PieceText(run), cache, logits, Lens: null,
            LensUnavailable: $"The logit lens projects residuals with the weights of model '{manifest.Model.Name}'; load that model to see it.");
        int generatedFrom = run.TokenIds.Count;
        return await WithDumpModelAsync(manifest,
            model => ExploreResultBuilder.Build(source with
            {
                Text = ExploreResultBuilder.Text(model.Tokenizer), Lens = c => LogitLens.Compute(model, c, ExploreResultBuilder.LensTopK),
            }, generatedFrom),
            () => ExploreResultBuilder.Build(source, generatedFrom), // another model, or none: everything but the lens
            cancellation);
    }

    /// <summary>Token texts from the dump's own pieces; ids the run does not contain (predictions) show as "#id".</summary>
    private static Func<int, string> PieceText(DumpRun run)
    {
        var pieces = new Dictionary<int, string>();
        for (int t = 0; t < run.TokenIds.Count && run.Pieces is not null; t++) pieces[run.TokenIds[t]] = GrokLens.Tokenization.GrokSentencePieceTokenizer.VisiblePiece(run.Pieces[t]);
        return id => pieces.GetValueOrDefault(id) ?? $"#{id}";
    }
}
