using GrokLens.Tests.Kernels;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Model;
using GrokLens.Tests.Fixtures;

namespace GrokLens.Tests.Checkpoints.Gguf;

public class GgufLoadingTests
{
    private static string FixtureGguf => Path.Combine(TestModels.FixtureDirectory, "model.gguf");

    /// <summary>Sizes whose every matrix has an innermost dimension divisible by Q8_0's block of 32.</summary>
    private static GrokConfig Q8Config() => TestModels.SmallConfig() with { ExpertSize = 64 };

    [Fact]
    public void FixtureGgufGivesTheReferenceActivations()
    {
        using var model = ModelLoader.Load(FixtureGguf);
        Assert.StartsWith("gguf v3 (F32)", model.Format);
        Assert.Equal(64, model.Config.HiddenSize);
        Assert.Equal(96, model.Config.ExpertSize);
        using var run = model.Run(FixtureReference.TokenIds(), new RunOptions { Capture = FixtureReference.HookNames() });
        // GGUF stores the multipliers as float32 (relative rounding ≤ 6e-8), far below this tolerance.
        FixtureReference.AssertMatches(name => run.Cache[name], tolerance: 1e-4);
    }

    [Fact]
    public void FixtureGgufAndSafetensorsGiveTheSameLogits()
    {
        using var folder = new TempDirectory();
        File.Copy(FixtureGguf, Path.Combine(folder.Path, "grok.gguf"));
        using var fromGguf = ModelLoader.Load(folder.Path); // a folder holding one .gguf
        using var fromSafetensors = ModelLoader.Load(TestModels.FixtureDirectory);
        Assert.Contains("gguf", fromGguf.Format);
        var tokens = FixtureReference.TokenIds();
        using var a = fromGguf.Run(tokens);
        using var b = fromSafetensors.Run(tokens);
        double relative = (a.Logits - b.Logits).norm().item<float>() / b.Logits.norm().item<float>();
        Assert.True(relative < 1e-6, $"relative logit difference {relative:E2}");
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void FloatTypesLoadExactly(GgmlType type)
    {
        using var folder = new TempDirectory();
        using var original = TestModels.Random(Q8Config());
        var path = Path.Combine(folder.Path, "m.gguf");
        GgufTestWriter.Write(original, path, type);
        using var file = GgufFile.Open(path);
        foreach (var (id, parameter) in original.Weights)
        {
            using var loaded = file.LoadFloat32(GrokLens.Loading.Naming.TensorNameTables.Gguf.PreferredName(id));
            var expected = parameter.detach().contiguous().data<float>().ToArray();
            var stored = GgufTestWriter.Encode(expected, id.IsMatrix ? type : GgmlType.F32);
            var decoded = Decode(stored, id.IsMatrix ? type : GgmlType.F32);
            Assert.Equal(decoded, loaded.data<float>().ToArray());
            Assert.Equal(parameter.shape, loaded.shape);
        }
    }

    [Fact]
    public void Q8_0WeightsMatchAnIndependentFloat64QuantiseDequantise()
    {
        using var folder = new TempDirectory();
        using var original = TestModels.Random(Q8Config());
        var path = Path.Combine(folder.Path, "m.gguf");
        GgufTestWriter.Write(original, path, GgmlType.Q8_0);
        using var file = GgufFile.Open(path);
        int matrices = 0, values = 0, exact = 0;
        foreach (var (id, parameter) in original.Weights.Where(w => w.Id.IsMatrix))
        {
            var info = file.Info(GrokLens.Loading.Naming.TensorNameTables.Gguf.PreferredName(id));
            Assert.Equal(GgmlType.Q8_0, info.Type);
            using var loadedTensor = file.LoadFloat32(info.Name);
            var loaded = loadedTensor.data<float>().ToArray();
            var x = parameter.detach().contiguous().data<float>().ToArray();
            for (int block = 0; block < x.Length / 32; block++)
            {
                double amax = 0;
                for (int i = 0; i < 32; i++) amax = Math.Max(amax, Math.Abs((double)x[block * 32 + i]));
                double d = amax / 127, dHalf = (double)(Half)d;
                for (int i = 0; i < 32; i++)
                {
                    int k = block * 32 + i;
                    double reference = Math.Round(x[k] / d, MidpointRounding.AwayFromZero) * dHalf;
                    // A float32 x·(1/d) may round the other way than float64 exactly at a .5 boundary: one step of d.
                    Assert.True(Math.Abs(loaded[k] - reference) <= dHalf * 1.0001, $"{id}[{k}]: {loaded[k]} vs {reference}");
                    if (Math.Abs(loaded[k] - reference) <= 1e-7 * Math.Abs(reference)) exact++;
                    // Q8_0's error bound: half a step of d plus the fp16 rounding of d across |q| ≤ 127.
                    Assert.True(Math.Abs(loaded[k] - x[k]) <= d / 2 + 127 * Math.Abs(dHalf - d) + 1e-7, $"{id}[{k}] error too large");
                    values++;
                }
            }
            matrices++;
        }
        Assert.True(matrices > 10);
        Assert.True(exact >= values * 0.999, $"only {exact} of {values} values match the float64 reference exactly");
    }

    [Fact]
    public void Q8_0ModelRunsCloseToTheFloatModelAndInt8KernelsCloseToDequantisedRun()
    {
        using var folder = new TempDirectory();
        var config = Q8Config();
        var path = Path.Combine(folder.Path, "m.gguf");
        using (var original = TestModels.Random(config)) GgufTestWriter.Write(original, path, GgmlType.Q8_0);
        var tokens = new[] { 5, 17, 3, 88, 42, 9, 61 };

        using var reference = TestModels.RandomLoaded(config);
        using var dequantised = ModelLoader.Load(path);
        using var int8 = ModelLoader.Load(path, new LoadOptions { Int8Weights = true });
        Assert.Contains("int8 weights", int8.Format);
        using var expected = reference.Run(tokens);
        using var a = dequantised.Run(tokens);
        using var b = int8.Run(tokens, new RunOptions { Capture = ["blocks.1.hook_resid_post"] });
        double quantisationError = (a.Logits - expected.Logits).norm().item<float>() / expected.Logits.norm().item<float>();
        // 8-bit blocks: each weight is off by ≤ 0.4 % of its block maximum; measured ≈ 1e-2 on the logits.
        Assert.True(quantisationError < 5e-2, $"Q8_0 logits differ from float by {quantisationError:E2}");
        KernelTolerance.AssertClose(a.Logits, b.Logits, "int8 residency");
        Assert.Equal(new long[] { 7, 32 }, b.Cache["blocks.1.hook_resid_post"].shape);
    }

    private static float[] Decode(byte[] bytes, GgmlType type) => type switch
    {
        GgmlType.F32 => Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToSingle(bytes, 4 * i)).ToArray(),
        GgmlType.F16 => Enumerable.Range(0, bytes.Length / 2).Select(i => (float)BitConverter.ToHalf(bytes, 2 * i)).ToArray(),
        _ => Enumerable.Range(0, bytes.Length / 2).Select(i => BitConverter.UInt32BitsToSingle((uint)BitConverter.ToUInt16(bytes, 2 * i) << 16)).ToArray(),
    };
}
