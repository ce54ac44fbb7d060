using System.Diagnostics;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Loading;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens bench --dumps</c>: how fast dumps are written and read back (validated), in MiB/s, against a plain
/// <see cref="File.Copy(string, string)"/> of the same files in the same process. The dump is every hook of one run
/// of the model, sharded, in the temporary folder. The writer fsyncs every file (atomic writes), so a copy that fsyncs
/// each file is shown too; reads come from the page cache, as they would right after writing.
/// One warm-up round, then <c>--repeats</c> interleaved rounds; the table shows medians.
/// </summary>
internal static class DumpBench
{
    public static int Run(CliIO io, string modelPath, int tokenCount, int repeats, long shardBytes)
    {
        if (tokenCount < 1) throw new UsageException("--tokens must be at least 1.");
        if (repeats < 1) throw new UsageException("--repeats must be at least 1.");
        using var model = ModelLoader.Load(modelPath);
        var vocab = model.Config.VocabSize;
        var tokens = Enumerable.Range(0, tokenCount).Select(i => 1 + i * 7919 % (vocab - 1)).ToArray();
        model.CheckSequence(tokens);
        using var run = model.Run(tokens, RunOptions.CaptureOnly("*"));
        var content = DumpWriter.FromRun(model, run, "run0");
        var write = new DumpWriteOptions { ShardBytes = shardBytes };

        var root = Path.Combine(Path.GetTempPath(), "groklens-dump-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var folder = Path.Combine(root, "dump");
            var zip = Path.Combine(root, "dump.zip");
            var copy = Path.Combine(root, "copy");
            var manifest = DumpWriter.WriteFolder(folder, model, [content], write);
            var files = Directory.GetFiles(folder);
            long bytes = files.Sum(f => new FileInfo(f).Length);
            DumpWriter.WriteZipFile(zip, model, [content], write);
            long zipBytes = new FileInfo(zip).Length;

            var cases = new List<(string Name, long Bytes, string Note, Action Action)>
            {
                ("file copy of the dump's files", bytes, "File.Copy, the baseline", () => CopyAll(files, copy, flushToDisk: false)),
                ("file copy, each file fsynced", bytes, "copy + Flush(flushToDisk), as the dump writer does",
                    () => CopyAll(files, copy, flushToDisk: true)),
                ("write dump folder", bytes, "safetensors + SHA-256; each file fsynced, renamed",
                    () => DumpWriter.WriteFolder(folder, model, [content], write with { Overwrite = true })),
                ("read dump folder, validated", bytes, "sizes, SHA-256, headers; loads every tensor", () => ReadAll(folder, new DumpReadOptions())),
                ("read dump folder, no checksums", bytes, "VerifyChecksums = false",
                    () => ReadAll(folder, new DumpReadOptions { VerifyChecksums = false })),
                ("write dump zip", zipBytes, "stored entries, one fsync", () => DumpWriter.WriteZipFile(zip, model, [content], write with { Overwrite = true })),
                ("read dump zip, validated", zipBytes, "extracts, then as the folder", () => ReadAll(zip, new DumpReadOptions())),
            };
            var times = cases.Select(_ => new List<double>(repeats)).ToList();
            for (int round = -1; round < repeats; round++) // Round -1 warms up and is not timed.
                for (int i = 0; i < cases.Count; i++)
                {
                    var clock = Stopwatch.StartNew();
                    cases[i].Action();
                    if (round >= 0) times[i].Add(clock.Elapsed.TotalSeconds);
                }

            io.Out.WriteLine($"GrokLens {GrokLensInfo.Version} dump bench: model '{model.Name}', {tokenCount} tokens, all {run.Cache.Names.Count} hooks, " +
                             $"{Format.Bytes(bytes)} in {manifest.Files.Count} data files (shard size {Format.Bytes(shardBytes)}) + manifest; " +
                             $"median of {repeats} interleaved rounds after 1 warm-up, in {Path.GetTempPath()}");
            io.Out.WriteLine();
            double copyRate = bytes / BenchCommand.MedianOf(times[0]) / (1 << 20);
            int width = cases.Max(c => c.Name.Length);
            io.Out.WriteLine($"{"case".PadRight(width)}  {"MiB/s",8}  {"× copy",7}  {"median ms",10}  note");
            io.Out.WriteLine(new string('-', width + 2 + 8 + 2 + 7 + 2 + 10 + 2 + 4));
            for (int i = 0; i < cases.Count; i++)
            {
                double seconds = BenchCommand.MedianOf(times[i]);
                double rate = cases[i].Bytes / seconds / (1 << 20);
                io.Out.WriteLine($"{cases[i].Name.PadRight(width)}  {Format.Number(rate, "0"),8}  {Format.Number(rate / copyRate, "0.00"),7}  " +
                                 $"{Format.Number(seconds * 1000, "0.0"),10}  {cases[i].Note}");
            }
            return CliApp.Ok;
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static void CopyAll(string[] files, string destination, bool flushToDisk)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in files)
        {
            var target = Path.Combine(destination, Path.GetFileName(file));
            File.Copy(file, target, overwrite: true);
            if (!flushToDisk) continue;
            using var stream = new FileStream(target, FileMode.Open, FileAccess.ReadWrite);
            stream.Flush(flushToDisk: true);
        }
    }

    /// <summary>Opens (validating) and loads every tensor of every run, as a reader of the whole dump would.</summary>
    private static void ReadAll(string path, DumpReadOptions options)
    {
        using var reader = DumpReader.Open(path, options);
        foreach (var run in reader.Runs)
        {
            using var cache = reader.LoadCache(run);
        }
    }
}
