using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using GrokLens.Dumps;
using GrokLens.Tests.Dumps;
using static GrokLens.Tests.Dumps.PythonReaderTests;

namespace GrokLens.Tests.Hostile;

/// <summary>notebooks/read_dump.py on hostile dumps: bounded memory and its own error, never a traceback.</summary>
public class HostilePythonReaderTests : IDisposable
{
    private readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    private static string ReadDump => Path.Combine(PythonDumpReaderTests.Notebooks, "read_dump.py");

    /// <summary>A manifest of one run holding one F32 hook of <paramref name="elements"/> values in <paramref name="dataFile"/>.</summary>
    private static JsonObject Manifest(long elements, string dataFile, long bytes, string sha256) => new()
    {
        ["format"] = DumpFormat.Name,
        ["format_version"] = DumpFormat.Version,
        ["kind"] = DumpFormat.ActivationsKind,
        ["model"] = new JsonObject { ["name"] = "x", ["config"] = new JsonObject { ["vocab_size"] = 10 }, ["weight_files"] = new JsonArray() },
        ["runs"] = new JsonArray(new JsonObject
        {
            ["id"] = "run0", ["token_ids"] = new JsonArray(1),
            ["hooks"] = new JsonArray(new JsonObject
            {
                ["name"] = "x", ["file"] = dataFile, ["tensor"] = "x", ["dtype"] = "F32", ["shape"] = new JsonArray(elements),
            }),
        }),
        ["files"] = new JsonArray(new JsonObject { ["name"] = dataFile, ["bytes"] = bytes, ["sha256"] = sha256 }),
    };

    [PythonFact]
    public void AZipInflatingToHalfAGigabyteIsReadWithBoundedMemory()
    {
        const long elements = 128L << 20; // 512 MiB of float32 zeros, about 0.5 MB deflated
        var header = Encoding.UTF8.GetBytes($"{{\"x\":{{\"dtype\":\"F32\",\"shape\":[{elements}],\"data_offsets\":[0,{elements * 4}]}}}}");
        var zip = Path.Combine(folder.Path, "dump.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var entry = archive.CreateEntry("data-00001.safetensors", CompressionLevel.SmallestSize).Open())
            {
                void Write(byte[] bytes)
                {
                    entry.Write(bytes);
                    hash.AppendData(bytes);
                }
                Write(BitConverter.GetBytes((ulong)header.Length));
                Write(header);
                var zeros = new byte[1 << 20];
                for (long written = 0; written < elements * 4; written += zeros.Length) Write(zeros);
            }
            var manifest = Manifest(elements, "data-00001.safetensors", 8 + header.Length + elements * 4, Convert.ToHexStringLower(hash.GetHashAndReset()));
            using var writer = new StreamWriter(archive.CreateEntry("manifest.json").Open());
            writer.Write(manifest.ToJsonString());
        }
        Assert.True(new FileInfo(zip).Length < 4 << 20, "the zip should be small");

        var script = Path.Combine(folder.Path, "peak.py");
        File.WriteAllText(script, """
            import sys, tracemalloc
            sys.path.insert(0, sys.argv[1])
            from read_dump import load_dump
            tracemalloc.start()  # counts Python's and numpy's allocations (not the process's inherited high-water mark)
            dump = load_dump(sys.argv[2])
            print(dump.runs["run0"].hooks["x"].shape[0], tracemalloc.get_traced_memory()[1])
            """);
        var info = new System.Diagnostics.ProcessStartInfo(FindPythonWithNumpy()!)
        {
            ArgumentList = { script, PythonDumpReaderTests.Notebooks, zip }, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        var temporary = Directory.CreateDirectory(Path.Combine(folder.Path, "tmp")).FullName;
        info.Environment["TMPDIR"] = temporary;
        using var python = System.Diagnostics.Process.Start(info)!;
        var output = python.StandardOutput.ReadToEndAsync();
        var errors = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, errors);
        var parts = output.Result.Split(' ', StringSplitOptions.TrimEntries);
        Assert.Equal(elements, long.Parse(parts[0]));
        long peak = long.Parse(parts[1]);
        // Reading entries into memory held the 512 MiB twice over; extracted to disk and mapped, only buffers are left.
        Assert.True(peak < 64 << 20, $"read_dump.py allocated up to {peak >> 20} MiB for a 512 MiB entry");
        Assert.Empty(Directory.EnumerateFileSystemEntries(temporary)); // the extraction is removed
    }

    [PythonFact]
    public void ADeeplyNestedManifestIsItsOwnErrorNotARecursionError()
    {
        var dump = Directory.CreateDirectory(Path.Combine(folder.Path, "nested")).FullName;
        File.WriteAllText(Path.Combine(dump, "manifest.json"), new string('[', 200_000) + new string(']', 200_000));
        var (code, stderr) = RunProcess(FindPythonWithNumpy()!, ReadDump, dump);
        Assert.Equal(1, code);
        Assert.DoesNotContain("Traceback", stderr);
        Assert.DoesNotContain("RecursionError", stderr);
        Assert.Equal($"error: {dump}: manifest.json nests arrays or objects too deeply to be a dump manifest", stderr.Trim());
    }
}
