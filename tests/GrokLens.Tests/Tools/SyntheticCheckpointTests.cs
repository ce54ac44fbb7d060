using GrokLens.Tests.Kernels;
using GrokLens.Loading.Naming;
using System.Diagnostics;
using System.Security.Cryptography;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Checkpoints.Xai;
using GrokLens.Loading;
using GrokLens.Loading.Gguf;
using GrokLens.Model;
using GrokLens.Tools;

namespace GrokLens.Tests.Tools;

/// <summary>The synthetic checkpoint writers of GrokLens.Tools, read back by GrokLens's readers and by Python.</summary>
[Collection(GrokLens.Tests.Kernels.LargeTorchOpsCollection.Name)]
public class SyntheticCheckpointTests
{
    /// <summary>Every matrix's inputs a multiple of Q8_0's 32; 300 tokens so the byte pieces and some words fit.</summary>
    private static GrokConfig Config() => TestModels.SmallConfig(vocab: 300) with { ExpertSize = 64 };

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.F32)]
    public void GgufIsReadBackWithItsConfigTokenizerAndTensorTypes(GgmlType matrixType)
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "synthetic.gguf");
        var config = Config();
        SyntheticGguf.Write(path, config, matrixType, seed: 3);
        using var file = GgufFile.Open(path);
        Assert.Equal("grok", file.Value("general.architecture"));
        var read = GgufGrokConfig.FromFile(file);
        // GGUF stores the multipliers and epsilon as float32.
        Assert.Equal(config with
        {
            RmsNormEps = (float)config.RmsNormEps,
            EmbeddingMultiplier = (float)config.EmbeddingMultiplier,
            OutputMultiplier = (float)config.OutputMultiplier,
            AttnOutputMultiplier = (float)config.AttnOutputMultiplier,
        }, read);
        var tokens = (object[])file.Value("tokenizer.ggml.tokens")!;
        Assert.Equal(300, tokens.Length);
        Assert.Equal(["[PAD]", "[BOS]", "[EOS]", "[UNK]", "<0x00>"], tokens.Take(5));
        Assert.Equal(300, tokens.Distinct().Count());
        Assert.Equal(300, ((Array)file.Value("tokenizer.ggml.token_type")!).Length);
        Assert.Equal(2 + 12 * config.NumLayers, file.TensorNames.Count);
        foreach (var name in file.TensorNames)
        {
            var info = file.Info(name);
            bool matrix = info.Dimensions.Length >= 2 && name != "token_embd.weight" && !name.EndsWith("ffn_gate_inp.weight", StringComparison.Ordinal);
            Assert.Equal(matrix ? matrixType : GgmlType.F32, info.Type);
        }
        using var q = file.LoadFloat32("blk.1.attn_q.weight");
        double deviation = q.std().item<float>();
        Assert.InRange(deviation * Math.Sqrt(config.HiddenSize), 0.7, 1.3); // standard deviation 1/√in
        using var norm = file.LoadFloat32("blk.0.attn_norm.weight");
        Assert.InRange(norm.mean().item<float>(), 0.9, 1.1);
    }

    [Fact]
    public void GgufRunsInGrokLensResidentAndInt8Alike()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "synthetic.gguf");
        SyntheticGguf.Write(path, Config(), GgmlType.Q8_0, seed: 4);
        using var resident = ModelLoader.Load(path);
        using var int8 = ModelLoader.Load(path, new LoadOptions { Int8Weights = true });
        var tokens = new[] { 5, 17, 260, 299, 42 };
        using var a = resident.Run(tokens);
        using var b = int8.Run(tokens);
        Assert.True(a.Logits.isfinite().all().item<bool>());
        Assert.True(a.Logits.std().item<float>() > 0.01, "random weights should give varied logits");
        KernelTolerance.AssertClose(a.Logits, b.Logits, "int8 logits");
    }

    [Fact]
    public void WritersAreDeterministicPerSeed()
    {
        using var folder = new TempDirectory();
        string Write(string name, int seed)
        {
            var path = Path.Combine(folder.Path, name);
            SyntheticGguf.Write(path, Config(), GgmlType.Q8_0, seed);
            return Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
        }
        Assert.Equal(Write("a.gguf", 7), Write("b.gguf", 7));
        Assert.NotEqual(Write("c.gguf", 7), Write("d.gguf", 8));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.partial"));
    }

    private static XaiLoaded Load(XaiCheckpoint checkpoint, WeightId id, GrokConfig config)
    {
        var (index, transposed) = XaiFileSlots.Locate(id, config.NumLayers)!.Value;
        return checkpoint.Load(index, transposed);
    }

    [Fact]
    public void XaiCheckpointIsReadBackAndRuns()
    {
        using var folder = new TempDirectory();
        var config = Config() with { NumLayers = 11 }; // layers 0, 1, 10, 2, …: lexicographic file order matters
        SyntheticXaiCheckpoint.Write(folder.Path, config, seed: 5);
        var checkpoint = XaiCheckpoint.Open(folder.Path, config.NumLayers);
        var down = Load(checkpoint, new WeightId(WeightKind.ExpertDown, 10), config).Quantized!;
        using (down)
        {
            Assert.Equal([config.NumExperts, config.HiddenSize, config.ExpertSize], down.Shape);
            Assert.Equal(config.ExpertSize / 8, down.BlockSize); // 8 row blocks, as in the release
            Assert.True(down.RoundToBFloat16);
        }
        var norm = Load(checkpoint, new WeightId(WeightKind.PostMoeNorm, 2), config).Float!;
        using (norm) Assert.InRange(norm.mean().item<float>(), 0.9, 1.1);

        using var model = ModelLoader.Load(folder.Path, new LoadOptions { Int8Weights = true });
        Assert.Equal(config.NumLayers, model.Config.NumLayers);
        using var run = model.Run([1, 2, 3, 250]);
        Assert.True(run.Logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void PythonReadsTheXaiPicklesToTheSameWeights()
    {
        using var folder = new TempDirectory();
        var config = Config() with { NumLayers = 2 };
        SyntheticXaiCheckpoint.Write(folder.Path, config, seed: 6);
        var output = Path.Combine(folder.Path, "python");
        var script = Path.Combine(TestModels.RepositoryRoot(), "tests", "GrokLens.Tests", "Tools", "read_xai_pickles.py");
        using (var python = Process.Start(new ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3")
               { ArgumentList = { script, Path.Combine(folder.Path, XaiCheckpoint.FolderName), output }, RedirectStandardError = true })!)
        {
            var errors = python.StandardError.ReadToEnd();
            python.WaitForExit();
            Assert.True(python.ExitCode == 0, $"read_xai_pickles.py failed (needs python3-numpy): {errors}");
        }
        var checkpoint = XaiCheckpoint.Open(folder.Path, config.NumLayers);
        int compared = 0;
        foreach (var (name, _) in GrokModel.Inventory(config))
        {
            var (index, transposed) = XaiFileSlots.Locate(name, config.NumLayers)!.Value;
            var loaded = checkpoint.Load(index, transposed);
            using var weight = loaded.Float ?? loaded.Quantized!.Dequantize();
            loaded.Quantized?.Dispose();
            using var stored = transposed ? weight.transpose(-1, -2).contiguous() : weight.alias();
            var expected = File.ReadAllBytes(Path.Combine(output, $"tensor{index:D5}.f32"));
            Assert.True(expected.AsSpan().SequenceEqual(stored.bytes), $"{name}: Python and GrokLens disagree");
            compared++;
        }
        Assert.Equal(2 + 12 * 2, compared);
    }
}
