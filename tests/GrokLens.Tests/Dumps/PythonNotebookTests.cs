using System.Diagnostics;
using System.Text.Json;
using GrokLens.Dumps;
using GrokLens.Engine;
using static GrokLens.Tests.Dumps.PythonReaderTests;

namespace GrokLens.Tests.Dumps;

/// <summary>
/// notebooks/04-python-dump-analysis.ipynb executed headless by Debian's jupyter-nbconvert (python3-ipykernel) on a
/// grok-tiny dump written here; its printed expert counts and most focused head must match those computed in C#.
/// </summary>
public class PythonNotebookTests
{
    private const string Notebook = "04-python-dump-analysis.ipynb";

    [NbconvertFact]
    public void ThePythonNotebookRunsOnADumpAndPrintsWhatCSharpComputes()
    {
        using var folder = new TempDirectory();
        var dump = Path.Combine(folder.Path, "dump");
        using var model = PythonDumpReaderTests.LoadGrokTiny();
        using var run = model.Run(model.Encode("The cat sat on the mat because it was tired"), RunOptions.CaptureOnly("*"));
        DumpWriter.WriteFolder(dump, model, [DumpWriter.FromRun(model, run, "run0", "The cat sat on the mat because it was tired")]);

        var info = new ProcessStartInfo("jupyter-nbconvert") { WorkingDirectory = PythonDumpReaderTests.Notebooks };
        foreach (var arg in new[] { "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=600", "--output-dir", folder.Path, Notebook })
            info.ArgumentList.Add(arg);
        info.Environment["GROKLENS_DUMP"] = dump;
        info.Environment["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"; // Silences a debugger warning of ipykernel.
        var (code, stderr) = RunProcess(info);
        Assert.True(code == 0, $"jupyter-nbconvert exited with {code}:\n{stderr}");

        var output = CellOutputs(Path.Combine(folder.Path, Notebook));
        Assert.Contains($"{run.Cache.Names.Count} hooks captured in run 'run0'", output);
        var config = model.Config;
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            var counts = new long[config.NumExperts];
            foreach (var expert in run.Cache[$"blocks.{layer}.moe.hook_topk_indices"].data<long>()) counts[expert]++;
            Assert.Contains($"layer {layer} expert counts: [{string.Join(", ", counts)}]", output);
        }
        var (focusedLayer, focusedHead) = MostFocusedHead(run.Cache, config.NumLayers);
        Assert.Contains($"most focused head: layer {focusedLayer} head {focusedHead} ", output);
    }

    /// <summary>The (layer, head) whose attention rows have the lowest mean entropy, in float64.</summary>
    private static (int Layer, int Head) MostFocusedHead(GrokLens.Hooks.ActivationCache cache, int layers)
    {
        var best = (Layer: -1, Head: -1, Entropy: double.MaxValue);
        for (int layer = 0; layer < layers; layer++)
        {
            var pattern = cache[$"blocks.{layer}.attn.hook_pattern"]; // [H, T, T]
            var (heads, tokens) = ((int)pattern.shape[0], (int)pattern.shape[1]);
            using var contiguous = pattern.contiguous();
            var p = contiguous.data<float>().ToArray();
            for (int head = 0; head < heads; head++)
            {
                double sum = 0;
                for (int i = head * tokens * tokens; i < (head + 1) * tokens * tokens; i++)
                    if (p[i] > 0) sum -= p[i] * Math.Log(p[i]);
                if (sum / tokens < best.Entropy) best = (layer, head, sum / tokens);
            }
        }
        return (best.Layer, best.Head);
    }

    /// <summary>All text the executed notebook's code cells printed; fails on an error output.</summary>
    private static string CellOutputs(string notebook)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(notebook));
        var text = new System.Text.StringBuilder();
        foreach (var cell in json.RootElement.GetProperty("cells").EnumerateArray())
        {
            if (cell.GetProperty("cell_type").GetString() != "code") continue;
            Assert.True(cell.GetProperty("execution_count").ValueKind == JsonValueKind.Number, "a code cell did not run");
            foreach (var output in cell.GetProperty("outputs").EnumerateArray())
            {
                Assert.NotEqual("error", output.GetProperty("output_type").GetString());
                if (!output.TryGetProperty("text", out var lines)) continue;
                if (lines.ValueKind == JsonValueKind.String) text.Append(lines.GetString());
                else foreach (var line in lines.EnumerateArray()) text.Append(line.GetString());
            }
        }
        return text.ToString();
    }

    internal static bool NbconvertInstalled()
    {
        try
        {
            return RunProcess("jupyter-nbconvert", "--version").Code == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

/// <summary>A fact skipped, with the reason, without python3 + numpy or Debian's jupyter-nbconvert.</summary>
public sealed class NbconvertFactAttribute : FactAttribute
{
    public NbconvertFactAttribute()
    {
        if (FindPythonWithNumpy() is null)
            Skip = "No python3 with numpy on this machine (Debian: apt-get install -y python3-numpy): the Python notebook is not run.";
        else if (!PythonNotebookTests.NbconvertInstalled())
            Skip = "No jupyter-nbconvert on this machine (Debian: apt-get install -y python3-ipykernel jupyter-nbconvert): the Python notebook is not run.";
    }
}
