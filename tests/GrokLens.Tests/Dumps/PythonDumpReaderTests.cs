using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrokLens.Checkpoints;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Tests.Cli;
using static GrokLens.Tests.Dumps.PythonReaderTests;

namespace GrokLens.Tests.Dumps;

/// <summary>
/// notebooks/read_dump.py, run by Debian's python3 + numpy on dumps of grok-tiny written here: every tensor it returns
/// must be bit-identical to what C# captured and read, and damaged or hostile dumps must end it with a clear error.
/// </summary>
public class PythonDumpReaderTests
{
    private static readonly (string Id, string Prompt)[] Prompts = [("run0", "The cat sat on the mat"), ("dog", "A dog ran home")];

    internal static string Notebooks => Path.Combine(TestModels.RepositoryRoot(), "notebooks");

    internal static LoadedModel LoadGrokTiny() => ModelLoader.Load(Path.Combine(TestModels.RepositoryRoot(), "models", "grok-tiny"));

    /// <summary>Python: load the dump with read_dump.py, write each tensor's raw bytes and an index.json to a folder.</summary>
    private const string ExportScript = """
        import json, os, sys
        import numpy as np
        sys.path.insert(0, sys.argv[1])
        import read_dump
        from read_dump import load_dump
        dump, out = load_dump(sys.argv[2]), sys.argv[3]
        tensors = []
        for run in dump.runs.values():
            for hook, array in run.hooks.items():
                file = f"{len(tensors)}.bin"
                with open(os.path.join(out, file), "wb") as f:
                    f.write(np.ascontiguousarray(array).tobytes())
                tensors.append({"run": run.id, "hook": hook, "dtype": str(array.dtype), "shape": list(array.shape), "file": file})
        for name, array in dump.reductions.items():
            file = f"{len(tensors)}.bin"
            with open(os.path.join(out, file), "wb") as f:
                f.write(np.ascontiguousarray(array).tobytes())
            tensors.append({"run": None, "hook": name, "dtype": str(array.dtype), "shape": list(array.shape), "file": file})
        runs = [{"id": r.id, "prompt": r.prompt, "token_ids": r.token_ids, "pieces": r.pieces} for r in dump.runs.values()]
        decoder = getattr(read_dump.safetensors_numpy, "__name__", None)
        json.dump({"runs": runs, "tensors": tensors, "decoder": decoder}, open(os.path.join(out, "index.json"), "w"))
        """;

    [PythonTheory]
    [InlineData("folder", false)]
    [InlineData("zip", false)]
    [InlineData("folder", true)]
    public void EveryTensorOfAShardedTwoRunDumpIsIdenticalToWhatCSharpCapturedAndRead(string form, bool safetensorsPackage)
    {
        using var folder = new TempDirectory();
        using var model = LoadGrokTiny();
        var results = Prompts.Select(p => model.Run(model.Encode(p.Prompt), RunOptions.CaptureOnly("*"))).ToList();
        try
        {
            var contents = Prompts.Select((p, i) => DumpWriter.FromRun(model, results[i], p.Id, p.Prompt)).ToList();
            var options = new DumpWriteOptions { ShardBytes = 64 << 10 };
            var dump = Path.Combine(folder.Path, form == "zip" ? "dump.zip" : "dump");
            var manifest = form == "zip" ? DumpWriter.WriteZipFile(dump, model, contents, options) : DumpWriter.WriteFolder(dump, model, contents, options);
            Assert.True(manifest.Files.Count > 5, "the dump should span several shards");

            var (index, exported) = Export(folder.Path, dump, safetensorsPackage);
            Assert.Equal(safetensorsPackage ? "safetensors.numpy" : null, index.GetProperty("decoder").GetString());
            using var reader = DumpReader.Open(dump);
            var runs = index.GetProperty("runs").EnumerateArray().ToList();
            Assert.Equal(Prompts.Select(p => p.Id), runs.Select(r => r.GetProperty("id").GetString()));
            var tensors = index.GetProperty("tensors").EnumerateArray().ToList();
            for (int i = 0; i < Prompts.Length; i++)
            {
                var run = reader.Run(Prompts[i].Id);
                Assert.Equal(Prompts[i].Prompt, runs[i].GetProperty("prompt").GetString());
                Assert.Equal(run.TokenIds, runs[i].GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()));
                Assert.Equal(run.Pieces!, runs[i].GetProperty("pieces").EnumerateArray().Select(e => e.GetString()!));
                using var readBack = reader.LoadCache(run);
                var live = results[i].Cache;
                var ofRun = tensors.Where(t => t.GetProperty("run").GetString() == Prompts[i].Id).ToList();
                Assert.Equal(live.Names, ofRun.Select(t => t.GetProperty("hook").GetString()!));
                foreach (var entry in ofRun)
                {
                    var hook = entry.GetProperty("hook").GetString()!;
                    var bytes = File.ReadAllBytes(Path.Combine(exported, entry.GetProperty("file").GetString()!));
                    AssertSameBytes(live[hook], entry, bytes, $"{Prompts[i].Id}/{hook} (captured)");
                    AssertSameBytes(readBack[hook], entry, bytes, $"{Prompts[i].Id}/{hook} (DumpReader)");
                }
            }
        }
        finally
        {
            foreach (var result in results) result.Dispose();
        }
    }

    /// <summary>
    /// safetensors.numpy.load_file(path) → {name: array}, as the safetensors package documents it; that package has no
    /// Debian build, so this independent decoder stands in for it to check that read_dump.py hands decoding over to it.
    /// </summary>
    private const string SafetensorsNumpyStandIn = """
        import json, struct
        import numpy as np
        TYPES = {"F64": "<f8", "F32": "<f4", "I64": "<i8", "I32": "<i4"}
        def load_file(path):
            with open(path, "rb") as f:
                data = f.read()
            (n,) = struct.unpack("<Q", data[:8])
            header = json.loads(data[8:8 + n])
            header.pop("__metadata__", None)
            body = data[8 + n:]
            return {name: np.frombuffer(body[e["data_offsets"][0]:e["data_offsets"][1]], TYPES[e["dtype"]]).reshape(e["shape"])
                    for name, e in header.items()}
        """;

    [PythonFact]
    public void CapturesSingleSafetensorsFileReadsAsOneRun()
    {
        using var folder = new TempDirectory();
        var file = Path.Combine(folder.Path, "cat.safetensors");
        var capture = CliOutput.Run("capture", "-m", Path.Combine(TestModels.RepositoryRoot(), "models", "grok-tiny"),
            "-p", "The cat sat", "--hooks", "logits,blocks.1.moe.*", "-o", file);
        Assert.True(capture.ExitCode == 0, capture.ToString());

        var (index, exported) = Export(folder.Path, file);
        using var stored = SafetensorsFile.Open(file);
        var run = Assert.Single(index.GetProperty("runs").EnumerateArray());
        Assert.Equal("The cat sat", run.GetProperty("prompt").GetString());
        Assert.Equal(stored.Metadata["token_ids"], string.Join(",", run.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32())));
        var tensors = index.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(stored.Names.Order(), tensors.Select(t => t.GetProperty("hook").GetString()!).Order());
        foreach (var entry in tensors)
        {
            var hook = entry.GetProperty("hook").GetString()!;
            using var tensor = stored.Load(hook);
            AssertSameBytes(tensor, entry, File.ReadAllBytes(Path.Combine(exported, entry.GetProperty("file").GetString()!)), hook);
        }
    }

    [PythonFact]
    public void EveryReductionOfABatchReduceDumpIsIdenticalToDumpReaders()
    {
        using var folder = new TempDirectory();
        var prompts = Path.Combine(folder.Path, "prompts.jsonl");
        File.WriteAllText(prompts, "{\"token_ids\": [243, 263, 387, 486]}\n{\"token_ids\": [20, 76, 5]}\n");
        var dump = Path.Combine(folder.Path, "stats");
        var batch = CliOutput.Run("batch", "-m", TestModels.FixtureDirectory, "--prompts", prompts, "--reduce",
            "--hooks", "blocks.*.hook_resid_post,blocks.*.moe.hook_expert_post", "-o", dump);
        Assert.True(batch.ExitCode == 0, batch.ToString());

        var (index, exported) = Export(folder.Path, dump);
        using var reader = DumpReader.Open(dump);
        Assert.Equal(reader.Runs.Select(r => r.Id), index.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        var reductions = index.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(reader.Manifest.Reductions!.Tensors.Select(t => t.Name), reductions.Select(t => t.GetProperty("hook").GetString()!));
        Assert.Contains(reductions, t => t.GetProperty("dtype").GetString() == "float64");
        Assert.Contains(reductions, t => t.GetProperty("dtype").GetString() == "int64");
        foreach (var entry in reductions)
        {
            var name = entry.GetProperty("hook").GetString()!;
            using var tensor = reader.LoadReduction(name);
            AssertSameBytes(tensor, entry, File.ReadAllBytes(Path.Combine(exported, entry.GetProperty("file").GetString()!)), name);
        }
    }

    /// <summary>Damages a small dump one way; read_dump.py must exit non-zero with this message and no traceback.</summary>
    [PythonTheory]
    [InlineData("truncated")]
    [InlineData("flipped byte")]
    [InlineData("header length beyond the file")]
    [InlineData("tensor outside the file")]
    [InlineData("future version")]
    [InlineData("hook entry without a file")]
    [InlineData("path in the manifest")]
    [InlineData("path in the zip")]
    public void ADamagedOrHostileDumpEndsTheReaderWithAClearError(string damage)
    {
        using var folder = new TempDirectory();
        var dump = Path.Combine(folder.Path, "dump");
        using (var model = TestModels.RandomLoaded())
        {
            using var run = model.Run([1, 2, 3, 4], RunOptions.CaptureOnly("blocks.*.attn.hook_pattern", "logits"));
            DumpWriter.WriteFolder(dump, model, [DumpWriter.FromRun(model, run)], new DumpWriteOptions { ShardBytes = 512 });
        }
        var (target, expected) = Damage(dump, damage);

        var (code, stderr) = RunProcess(FindPythonWithNumpy()!, Path.Combine(Notebooks, "read_dump.py"), target);
        Assert.True(code != 0, $"read_dump.py accepted a dump with {damage}");
        Assert.DoesNotContain("Traceback", stderr);
        Assert.StartsWith($"error: {target}: ", stderr);
        Assert.Contains(expected, stderr);
    }

    /// <summary>Applies <paramref name="damage"/> to the dump; returns the path to read (the dump, or a zip of it) and the expected message.</summary>
    private static (string Target, string Message) Damage(string dump, string damage)
    {
        var manifestPath = Path.Combine(dump, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        var data = Path.Combine(dump, manifest["files"]![0]!["name"]!.GetValue<string>());
        var bytes = File.ReadAllBytes(data);
        var name = Path.GetFileName(data);

        // A hostile writer can make size and hash agree with changed bytes: the header is checked all the same.
        void Rehash(byte[] changed)
        {
            File.WriteAllBytes(data, changed);
            manifest["files"]![0]!["bytes"] = changed.Length;
            manifest["files"]![0]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(changed));
        }

        string message;
        switch (damage)
        {
            case "truncated":
                File.WriteAllBytes(data, bytes[..^10]);
                message = $"data file '{name}' is {bytes.Length - 10} bytes, the manifest says {bytes.Length} (truncated or changed)";
                break;
            case "flipped byte":
                bytes[^3] ^= 0x40;
                File.WriteAllBytes(data, bytes);
                message = $"data file '{name}' fails its checksum";
                break;
            case "header length beyond the file":
                BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)bytes.Length * 4);
                Rehash(bytes);
                message = $"the header length field says {bytes.Length * 4} bytes, but only {bytes.Length - 8} follow it";
                break;
            case "tensor outside the file":
                Rehash(bytes[..^8]);
                message = "reach outside the";
                break;
            case "future version":
                manifest["format_version"] = 3;
                message = "the dump has format version 3, newer than this reader knows";
                break;
            case "hook entry without a file":
                manifest["runs"]![0]!["hooks"]![0]!.AsObject().Remove("file");
                message = "manifest.json does not match the schema: each hook must be a JSON object with name, file, tensor, dtype, shape";
                break;
            case "path in the manifest":
                File.Copy(data, Path.Combine(Path.GetDirectoryName(dump)!, "x.safetensors"));
                manifest["files"]![0]!["name"] = "../x.safetensors";
                message = "data file '../x.safetensors', which is not a plain file name";
                break;
            case "path in the zip":
                var zip = dump + ".zip";
                using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
                {
                    archive.CreateEntryFromFile(manifestPath, "manifest.json");
                    using var evil = archive.CreateEntry("../../evil.safetensors").Open();
                    evil.Write(bytes);
                }
                return (zip, "zip entry '../../evil.safetensors' is not part of a dump");
            default:
                throw new ArgumentException(damage);
        }
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        return (dump, message);
    }

    /// <summary>Runs <see cref="ExportScript"/> on <paramref name="dump"/>; returns its index.json and the folder of .bin files.</summary>
    private static (JsonElement Index, string Folder) Export(string work, string dump, bool safetensorsPackage = false)
    {
        var script = Path.Combine(work, "export.py");
        File.WriteAllText(script, ExportScript);
        var exported = Path.Combine(work, "exported");
        Directory.CreateDirectory(exported);
        var info = new System.Diagnostics.ProcessStartInfo(FindPythonWithNumpy()!) { ArgumentList = { script, Notebooks, dump, exported } };
        if (safetensorsPackage)
        {
            var package = Path.Combine(work, "stand-in", "safetensors");
            Directory.CreateDirectory(package);
            File.WriteAllText(Path.Combine(package, "__init__.py"), "");
            File.WriteAllText(Path.Combine(package, "numpy.py"), SafetensorsNumpyStandIn);
            info.Environment["PYTHONPATH"] = Path.GetDirectoryName(package);
        }
        var (code, stderr) = RunProcess(info);
        Assert.True(code == 0, stderr);
        return (JsonDocument.Parse(File.ReadAllText(Path.Combine(exported, "index.json"))).RootElement.Clone(), exported);
    }

    /// <summary>The bytes Python wrote are exactly the tensor's; hook expert indices are int32 there, int64 in C#.</summary>
    private static void AssertSameBytes(Tensor tensor, JsonElement entry, byte[] bytes, string what)
    {
        Assert.True(tensor.shape.SequenceEqual(entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())), $"{what}: shape");
        var dtype = entry.GetProperty("dtype").GetString();
        using var contiguous = tensor.contiguous();
        var expected = (tensor.dtype, dtype) switch
        {
            (ScalarType.Float32, "float32") => Bytes(contiguous.data<float>()),
            (ScalarType.Float64, "float64") => Bytes(contiguous.data<double>()),
            (ScalarType.Int64, "int64") => Bytes(contiguous.data<long>()),
            (ScalarType.Int32, "int32") => Bytes(contiguous.data<int>()),
            (ScalarType.Int64, "int32") => Bytes(contiguous.data<long>().Select(v => checked((int)v)).ToArray()),
            _ => throw new Xunit.Sdk.XunitException($"{what}: Python's {dtype} for C#'s {tensor.dtype}"),
        };
        Assert.True(expected.AsSpan().SequenceEqual(bytes), $"{what}: Python's bytes differ from C#'s");
    }

    private static byte[] Bytes<T>(IEnumerable<T> values) where T : unmanaged => MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray();
}

/// <summary>A theory skipped, with the reason, when no python3 with numpy is installed.</summary>
public sealed class PythonTheoryAttribute : TheoryAttribute
{
    public PythonTheoryAttribute()
    {
        if (FindPythonWithNumpy() is null)
            Skip = "No python3 with numpy on this machine (Debian: apt-get install -y python3-numpy): read_dump.py is not run.";
    }
}
