using System.Diagnostics;
using GrokLens.Model;

namespace GrokLens.Tests.Checkpoints.Xai;

/// <summary>A miniature raw xAI release written by write_xai_miniature.py (Debian python3 + python3-numpy).</summary>
internal sealed class XaiMiniature : IDisposable
{
    private readonly TempDirectory folder = new();

    public XaiMiniature(GrokConfig config, int seed = 1)
    {
        Config = config;
        File.WriteAllText(System.IO.Path.Combine(Path, "config.json"), config.ToJson());
        var script = System.IO.Path.Combine(TestModels.RepositoryRoot(), "tests", "GrokLens.Tests", "Checkpoints", "Xai", "write_xai_miniature.py");
        using var python = Process.Start(new ProcessStartInfo(DebianPython) { ArgumentList = { script, Path, seed.ToString() }, RedirectStandardError = true })!;
        var errors = python.StandardError.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0) throw new InvalidOperationException($"write_xai_miniature.py failed (needs python3-numpy): {errors}");
    }

    public GrokConfig Config { get; }

    /// <summary>Debian's interpreter, which sees the python3-numpy package (a pyenv shim first on PATH may not).</summary>
    private static string DebianPython => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    public string Path => folder.Path;

    /// <summary>The dequantised weight the script computed, float32 in PyTorch layout.</summary>
    public byte[] ExpectedBytes(string canonical) => File.ReadAllBytes(System.IO.Path.Combine(Path, "expected", canonical + ".f32"));

    /// <summary>12 layers, so the lexicographic file order (0, 1, 10, 11, 2, …) differs from the numeric one.</summary>
    public static GrokConfig TwelveLayers() => TestModels.SmallConfig() with { NumLayers = 12, ExpertSize = 64 };

    public void Dispose() => folder.Dispose();
}
