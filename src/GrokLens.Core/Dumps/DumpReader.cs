using GrokLens.Checkpoints;
using GrokLens.Files;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Dumps;

/// <summary>
/// An opened, fully validated dump: a folder, a .zip file or a zip stream (an upload). Opening checks the manifest's
/// schema and version, every file name (no paths), size and SHA-256, every safetensors header's bounds, and that each
/// tensor the manifest lists exists with the listed dtype and shape; any problem is a <see cref="DumpFormatException"/>
/// naming it. Tensors are read lazily from memory-mapped files. Dispose to unmap (and delete a zip's extraction).
/// </summary>
public sealed class DumpReader : IDisposable
{
    private readonly Dictionary<string, SafetensorsFile> files;
    private readonly Dictionary<string, DumpRun> runsById;
    private readonly OwnedTemporaryFolder? extraction;

    private DumpReader(string location, DumpManifest manifest, GrokConfig config, Dictionary<string, SafetensorsFile> files,
        OwnedTemporaryFolder? extraction)
    {
        Location = location;
        Manifest = manifest;
        Config = config;
        this.files = files;
        this.extraction = extraction;
        runsById = manifest.Runs.ToDictionary(r => r.Id, StringComparer.Ordinal);
    }

    /// <summary>The folder, zip file or "upload" the dump came from, for messages.</summary>
    public string Location { get; }

    public DumpManifest Manifest { get; }

    /// <summary>The model config the dump records.</summary>
    public GrokConfig Config { get; }

    public IReadOnlyList<DumpRun> Runs => Manifest.Runs;

    /// <summary>Opens a dump folder, or a .zip file holding one; messages name it <paramref name="location"/> (default: its full path).</summary>
    public static DumpReader Open(string path, DumpReadOptions? options = null, string? location = null)
    {
        options ??= new DumpReadOptions();
        if (Directory.Exists(path)) return OpenFolder(Path.GetFullPath(path), options, extraction: null, location);
        if (File.Exists(path))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return OpenZip(stream, options, location ?? Path.GetFullPath(path));
        }
        throw new DirectoryNotFoundException($"Dump not found: '{path}' is neither a folder nor a file.");
    }

    /// <summary>Opens a zipped dump from any stream (seekable or not), extracting it under the size limit first.</summary>
    public static DumpReader OpenZip(Stream zip, DumpReadOptions? options = null, string location = "uploaded dump")
    {
        options ??= new DumpReadOptions();
        var extraction = DumpZip.Extract(zip, location, options);
        try
        {
            // Where open files may be deleted (POSIX), the extraction goes at once: the data files stay mapped, and
            // nothing is left on disk even if this process crashes or is killed. Elsewhere it goes with the reader.
            bool deleteNow = !OperatingSystem.IsWindows();
            var reader = OpenFolder(extraction.Path, options, deleteNow ? null : extraction, location);
            if (deleteNow) extraction.Dispose();
            return reader;
        }
        catch
        {
            extraction.Dispose();
            throw;
        }
    }

    private static DumpReader OpenFolder(string folder, DumpReadOptions options, OwnedTemporaryFolder? extraction, string? location = null)
    {
        location ??= folder;
        var manifest = ReadManifest(folder, location, options.MaxManifestBytes);
        var config = CheckModel(manifest, location);
        var opened = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var file in manifest.Files)
                opened.Add(file.Name, OpenDataFile(folder, file, location, options.VerifyChecksums, opened.Keys));
            CheckRuns(manifest, config, opened, location);
            return new DumpReader(location, manifest, config, opened, extraction);
        }
        catch
        {
            foreach (var file in opened.Values) file.Dispose();
            throw;
        }
    }

    public DumpRun Run(string id) => runsById.TryGetValue(id, out var run)
        ? run
        : throw new KeyNotFoundException($"{Location}: no run '{id}'. Runs: {string.Join(", ", runsById.Keys.Take(10))}{(runsById.Count > 10 ? ", …" : "")}.");

    /// <summary>The interventions that were applied in a run (validated at open).</summary>
    public static IReadOnlyList<Intervention> Interventions(DumpRun run) => InterventionJson.Deserialize(run.Interventions.ToJsonString());

    /// <summary>Loads one stored tensor. Int32 hook tensors (expert indices) come back as int64, as the engine holds them.</summary>
    public Tensor Load(DumpTensor tensor)
    {
        var loaded = files[tensor.File].Load(tensor.Tensor);
        if (loaded.dtype != ScalarType.Int32) return loaded;
        using (loaded) return loaded.to_type(ScalarType.Int64);
    }

    /// <summary>A run's hooks (all, or those matching glob patterns) as an <see cref="ActivationCache"/>, as if just run.</summary>
    public ActivationCache LoadCache(DumpRun run, IEnumerable<string>? patterns = null)
    {
        var names = run.Hooks.Select(h => h.Name).ToList();
        var selected = patterns is null ? names : HookPatterns.Resolve(patterns, names);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var hook in run.Hooks.Where(h => selected.Contains(h.Name)))
                tensors.Add(new(hook.Name, Load(hook)));
        }
        catch
        {
            foreach (var (_, tensor) in tensors) tensor.Dispose();
            throw;
        }
        return new ActivationCache(tensors, run.TokenIds, 0);
    }

    /// <summary>A reduction tensor by name (reductions dumps), e.g. "blocks.0.moe.expert_counts".</summary>
    public Tensor LoadReduction(string name)
    {
        var entry = Manifest.Reductions?.Tensors.FirstOrDefault(t => t.Name == name)
                    ?? throw new KeyNotFoundException($"{Location}: no reduction '{name}'.");
        return files[entry.File].Load(entry.Tensor);
    }

    private static DumpManifest ReadManifest(string folder, string location, long maxBytes)
    {
        var path = Path.Combine(folder, DumpFormat.ManifestFileName);
        if (!File.Exists(path)) throw new DumpFormatException(location, $"no {DumpFormat.ManifestFileName}: not a GrokLens dump");
        byte[] json;
        try
        {
            json = GrokLens.Files.BoundedFile.ReadAllBytes(path, maxBytes, "dump manifest");
        }
        catch (GrokLens.Files.FileTooLargeException)
        {
            throw new DumpFormatException(location, $"{DumpFormat.ManifestFileName} is over the {maxBytes}-byte limit");
        }
        var manifest = DumpManifest.FromJson(json, location);
        if (manifest.Kind is not (DumpFormat.ActivationsKind or DumpFormat.ReductionsKind))
            throw new DumpFormatException(location, $"unknown dump kind '{manifest.Kind}' (expected {DumpFormat.ActivationsKind} or {DumpFormat.ReductionsKind})");
        if (manifest.Kind == DumpFormat.ReductionsKind && manifest.Reductions is null)
            throw new DumpFormatException(location, "a reductions dump without \"reductions\"");
        return manifest;
    }

    private static GrokConfig CheckModel(DumpManifest manifest, string location)
    {
        try
        {
            return GrokConfig.FromJson(manifest.Model.Config.ToJsonString());
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or System.Text.Json.JsonException)
        {
            throw new DumpFormatException(location, $"the model config in the manifest is invalid: {e.Message}", e);
        }
    }

    private static SafetensorsFile OpenDataFile(string folder, DumpFile file, string location, bool verifyChecksum, IEnumerable<string> seen)
    {
        if (!DumpFormat.IsSafeFileName(file.Name))
            throw new DumpFormatException(location,
                $"the manifest names data file '{file.Name}', which is not a plain file name ending in .safetensors (paths such as '../x' are refused)");
        if (seen.Contains(file.Name)) throw new DumpFormatException(location, $"the manifest lists data file '{file.Name}' twice");
        var path = Path.Combine(folder, file.Name);
        if (!File.Exists(path)) throw new DumpFormatException(location, $"data file '{file.Name}' is missing");
        var length = new FileInfo(path).Length;
        if (length != file.Bytes)
            throw new DumpFormatException(location, $"data file '{file.Name}' is {length} bytes, the manifest says {file.Bytes} (truncated or changed)");
        if (verifyChecksum)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
            if (!string.Equals(actual, file.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new DumpFormatException(location, $"data file '{file.Name}' fails its checksum: SHA-256 {actual}, the manifest says {file.Sha256} (the file is corrupt or was changed)");
        }
        try
        {
            return SafetensorsFile.Open(path);
        }
        catch (CheckpointFormatException e)
        {
            throw new DumpFormatException(location, $"data file '{file.Name}' is not valid safetensors: {e.Message}", e);
        }
    }

    private static void CheckRuns(DumpManifest manifest, GrokConfig config, Dictionary<string, SafetensorsFile> opened, string location)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var run in manifest.Runs)
        {
            if (!DumpFormat.IsValidRunId(run.Id)) throw new DumpFormatException(location, $"run id '{run.Id}' is not valid");
            if (!ids.Add(run.Id)) throw new DumpFormatException(location, $"run '{run.Id}' appears twice");
            if (run.TokenIds.Count == 0) throw new DumpFormatException(location, $"run '{run.Id}' has no tokens");
            foreach (var id in run.TokenIds)
                if (id < 0 || id >= config.VocabSize)
                    throw new DumpFormatException(location, $"run '{run.Id}' has token id {id}, outside the model's vocabulary 0…{config.VocabSize - 1}");
            if (run.Pieces is { } pieces && pieces.Count != run.TokenIds.Count)
                throw new DumpFormatException(location, $"run '{run.Id}' has {pieces.Count} pieces for {run.TokenIds.Count} tokens");
            try
            {
                // Valid JSON is not enough: every intervention must fit the recorded model (its layers, experts, sizes).
                foreach (var intervention in Interventions(run)) intervention.Validate(config);
            }
            catch (InterventionException e)
            {
                throw new DumpFormatException(location, $"run '{run.Id}' records an invalid intervention: {e.Message}", e);
            }
            var hooks = new HashSet<string>(StringComparer.Ordinal);
            foreach (var hook in run.Hooks)
            {
                if (!hooks.Add(hook.Name)) throw new DumpFormatException(location, $"run '{run.Id}' lists hook '{hook.Name}' twice");
                CheckTensor(hook, $"run '{run.Id}' hook '{hook.Name}'", opened, location);
                if (DumpHookShapes.Problem(hook.Name, hook.Shape, config, run.TokenIds.Count) is { } problem)
                    throw new DumpFormatException(location, $"run '{run.Id}': {problem}");
            }
        }
        foreach (var tensor in manifest.Reductions?.Tensors ?? [])
            CheckTensor(tensor, $"reduction '{tensor.Name}'", opened, location);
    }

    private static void CheckTensor(DumpTensor entry, string what, Dictionary<string, SafetensorsFile> opened, string location)
    {
        if (!opened.TryGetValue(entry.File, out var file))
            throw new DumpFormatException(location, $"{what} is in '{entry.File}', which is not among the manifest's files");
        if (!file.Contains(entry.Tensor))
            throw new DumpFormatException(location, $"{what}: tensor '{entry.Tensor}' is not in '{entry.File}'");
        var info = file.Info(entry.Tensor);
        if (info.DType.HeaderName() != entry.Dtype)
            throw new DumpFormatException(location, $"{what}: stored as {info.DType.HeaderName()}, the manifest says {entry.Dtype}");
        if (!info.Shape.SequenceEqual(entry.Shape))
            throw new DumpFormatException(location,
                $"{what}: stored shape [{string.Join(", ", info.Shape)}], the manifest says [{string.Join(", ", entry.Shape)}]");
    }

    public void Dispose()
    {
        foreach (var file in files.Values) file.Dispose();
        files.Clear();
        extraction?.Dispose();
    }
}

/// <summary>Limits and checks for reading dumps.</summary>
public sealed record DumpReadOptions
{
    /// <summary>Hash every data file at open (on by default; turn off only for trusted local dumps).</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>Largest manifest.json accepted; parsing takes a few times its size in memory.</summary>
    public long MaxManifestBytes { get; init; } = DumpFormat.MaxManifestBytes;

    /// <summary>Largest zip (and largest total extracted size) accepted, e.g. for uploads.</summary>
    public long MaxZipBytes { get; init; } = 4L << 30;

    /// <summary>Where zips are extracted (a fresh subfolder, deleted when the reader is disposed).</summary>
    public string TemporaryRoot { get; init; } = Path.GetTempPath();
}
