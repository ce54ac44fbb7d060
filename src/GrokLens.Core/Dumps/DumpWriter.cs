using GrokLens.Engine;
using GrokLens.Files;
using GrokLens.Hooks;
using GrokLens.Interventions;

namespace GrokLens.Dumps;

/// <summary>
/// Writes whole dumps in one go (the <c>capture</c> command, the workbench's download). A folder is built under a
/// temporary name beside its destination and renamed into place, so a dump folder is either complete or absent; an
/// existing dump is replaced only with <see cref="DumpWriteOptions.Overwrite"/>.
/// </summary>
public static class DumpWriter
{
    /// <summary>Turns a run's result into dump content: the selected hooks (all captured when no patterns are given).</summary>
    public static DumpRunContent FromRun(IModelEngine model, RunResult run, string id = "run0", string? prompt = null,
        IReadOnlyList<Intervention>? interventions = null, IEnumerable<string>? hookPatterns = null)
    {
        var names = hookPatterns is null ? run.Cache.Names : HookPatterns.Resolve(hookPatterns, run.Cache.Names);
        return new DumpRunContent(id, prompt, run.TokenIds, DumpDescriptions.Pieces(model.Tokenizer, run.TokenIds),
            interventions ?? [], names.Select(name => (name, run.Cache[name])).ToList());
    }

    public static DumpManifest WriteFolder(string folder, IModelEngine model, IReadOnlyList<DumpRunContent> runs, DumpWriteOptions? options = null)
    {
        options ??= new DumpWriteOptions();
        folder = Path.GetFullPath(folder.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        if (File.Exists(folder)) throw new IOException($"{folder} is a file; a dump is written as a folder (or give a .zip name).");
        if (Directory.Exists(folder) && !options.Overwrite)
            throw new IOException($"{folder} already exists; pass overwrite to replace it.");

        var parent = Path.GetDirectoryName(folder)!;
        Directory.CreateDirectory(parent);
        // What a killed capture to the same place left behind goes first; a live one's folder is locked and stays.
        var name = Path.GetFileName(folder);
        StaleTemporaries.Sweep(parent, $".{name}.*.tmp");
        StaleTemporaries.Sweep(parent, $".{name}.*.old");
        using var temporary = OwnedTemporaryFolder.Create(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        var manifest = Build(new FolderDumpSink(temporary.Path), model, runs, options);
        temporary.Release();
        try
        {
            Replace(folder, temporary.Path);
        }
        catch
        {
            OwnedTemporaryFolder.DeleteQuietly(temporary.Path);
            throw;
        }
        return manifest;
    }

    /// <summary>Writes the dump as a zip (manifest.json + data files, stored) to a stream, e.g. an HTTP response.</summary>
    public static DumpManifest WriteZip(Stream destination, IModelEngine model, IReadOnlyList<DumpRunContent> runs, DumpWriteOptions? options = null) =>
        DumpZip.Write(destination, sink => Build(sink, model, runs, options ?? new DumpWriteOptions()));

    /// <summary>Writes a .zip dump file atomically (temporary file, then rename).</summary>
    public static DumpManifest WriteZipFile(string path, IModelEngine model, IReadOnlyList<DumpRunContent> runs, DumpWriteOptions? options = null)
    {
        options ??= new DumpWriteOptions();
        path = Path.GetFullPath(path);
        if (File.Exists(path) && !options.Overwrite) throw new IOException($"{path} already exists; pass overwrite to replace it.");
        DumpManifest? manifest = null;
        Checkpoints.SafetensorsWriter.WriteAtomically(path, stream => manifest = WriteZip(stream, model, runs, options));
        return manifest!;
    }

    private static DumpManifest Build(IDumpSink sink, IModelEngine model, IReadOnlyList<DumpRunContent> runs, DumpWriteOptions options)
    {
        if (runs.Count == 0) throw new ArgumentException("A dump needs at least one run.");
        using var builder = new DumpBuilder(sink, model.Config, DumpDescriptions.Model(model), DumpDescriptions.Tokenizer(model.Tokenizer),
            new DumpBuildOptions { ShardBytes = options.ShardBytes, PrefixRunIds = runs.Count > 1 });
        foreach (var run in runs) builder.Add(run);
        return builder.Finish();
    }

    /// <summary>Renames the finished folder into place; an old dump is moved aside first and deleted after.</summary>
    private static void Replace(string folder, string temporary)
    {
        string? old = null;
        if (Directory.Exists(folder))
        {
            old = Path.Combine(Path.GetDirectoryName(folder)!, $".{Path.GetFileName(folder)}.{Guid.NewGuid():N}.old");
            Directory.Move(folder, old);
        }
        Directory.Move(temporary, folder);
        if (old is not null) OwnedTemporaryFolder.DeleteQuietly(old);
    }
}

public sealed record DumpWriteOptions
{
    /// <summary>Upper bound on the tensor bytes of one data file.</summary>
    public long ShardBytes { get; init; } = DumpFormat.DefaultShardBytes;

    /// <summary>Replace an existing dump folder.</summary>
    public bool Overwrite { get; init; }
}
