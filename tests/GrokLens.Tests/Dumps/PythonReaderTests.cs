using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using GrokLens.Dumps;
using static GrokLens.Tests.Dumps.DumpTestData;

namespace GrokLens.Tests.Dumps;

/// <summary>The numpy-only reader printed in docs/dump-format.md, run by Python on a dump written here.</summary>
public class PythonReaderTests
{
    [PythonFact]
    public void TheDocumentedNumpyReaderReadsTheSameValues()
    {
        var python = FindPythonWithNumpy()!;
        using var folder = new TempDirectory();
        var dump = Path.Combine(folder.Path, "dump");
        using var model = LoadFixture();
        WriteFixtureDump(model, dump, shardBytes: 2048);

        var reader = DocumentedReader();
        var script = Path.Combine(folder.Path, "check.py");
        File.WriteAllText(script, reader + """

import sys
manifest, runs = read_dump(sys.argv[1])
out = {name: {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.astype("float64").ravel().tolist()}
       for name, a in runs["run0"].items()}
json.dump({"tokens": manifest["runs"][0]["token_ids"], "hooks": out}, open(sys.argv[2], "w"))
""");
        var output = Path.Combine(folder.Path, "values.json");
        var (code, stderr) = RunProcess(python, script, dump, output);
        Assert.True(code == 0, stderr);

        using var json = JsonDocument.Parse(File.ReadAllText(output));
        Assert.Equal(Tokens, json.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        using var dumpReader = DumpReader.Open(dump);
        using var cache = dumpReader.LoadCache(dumpReader.Runs[0]);
        var hooks = json.RootElement.GetProperty("hooks");
        Assert.Equal(cache.Names.Count, hooks.EnumerateObject().Count());
        foreach (var name in cache.Names)
        {
            var entry = hooks.GetProperty(name);
            var tensor = cache[name];
            Assert.Equal(tensor.shape, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            Assert.Equal(tensor.dtype == ScalarType.Int64 ? "int32" : "float32", entry.GetProperty("dtype").GetString());
            var expected = tensor.to_type(ScalarType.Float64).flatten().data<double>().ToArray();
            var actual = entry.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(expected, actual); // Exact: float32 → float64 on both sides.
        }
    }

    [PythonFact]
    public void TheDocumentedReaderRefusesACorruptFile()
    {
        var python = FindPythonWithNumpy()!;
        using var folder = new TempDirectory();
        var dump = Path.Combine(folder.Path, "dump");
        using var model = TestModels.RandomLoaded();
        using var run = model.Run([1, 2], GrokLens.Engine.RunOptions.CaptureOnly("logits"));
        DumpWriter.WriteFolder(dump, model, [DumpWriter.FromRun(model, run)]);
        var data = Directory.GetFiles(dump, "data-*.safetensors").Single();
        var bytes = File.ReadAllBytes(data);
        bytes[^1] ^= 1;
        File.WriteAllBytes(data, bytes);
        var script = Path.Combine(folder.Path, "check.py");
        File.WriteAllText(script, DocumentedReader() + "\nimport sys\nread_dump(sys.argv[1])\n");
        var (code, stderr) = RunProcess(python, script, dump);
        Assert.NotEqual(0, code);
        Assert.Contains("corrupt data-00001.safetensors", stderr);
    }

    /// <summary>The first python block under "## Reading with numpy only" in docs/dump-format.md.</summary>
    internal static string DocumentedReader()
    {
        var doc = File.ReadAllText(Path.Combine(TestModels.RepositoryRoot(), "docs", "dump-format.md"));
        var section = doc[doc.IndexOf("## Reading with numpy only", StringComparison.Ordinal)..];
        var match = Regex.Match(section, "```python\n(.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, "docs/dump-format.md has no python block under 'Reading with numpy only'");
        return match.Groups[1].Value;
    }

    /// <summary>Debian's python3 first (a pyenv shim on PATH may lack numpy), then whatever python3 is on PATH.</summary>
    internal static string? FindPythonWithNumpy() => PythonWithNumpy.Value;

    private static readonly Lazy<string?> PythonWithNumpy = new(() =>
    {
        foreach (var candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                if (RunProcess(candidate, "-c", "import numpy").Code == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed.
            }
        }
        return null;
    });

    internal static (int Code, string Stderr) RunProcess(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return RunProcess(info);
    }

    /// <summary>Runs a process to its end (set the working directory or environment on <paramref name="info"/>).</summary>
    internal static (int Code, string Stderr) RunProcess(ProcessStartInfo info)
    {
        info.RedirectStandardError = true;
        info.RedirectStandardOutput = true;
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stderr.Result);
    }
}

/// <summary>A fact skipped, with the reason, when no python3 with numpy is installed.</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        if (PythonReaderTests.FindPythonWithNumpy() is null)
            Skip = "No python3 with numpy on this machine (Debian: apt-get install -y python3-numpy): the documented reader is not run.";
    }
}
