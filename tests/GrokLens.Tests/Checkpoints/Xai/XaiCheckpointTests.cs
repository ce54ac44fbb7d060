using GrokLens.Tests.Kernels;
using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Xai;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Loading;
using GrokLens.Loading.Placement;
using GrokLens.Loading.Xai;
using GrokLens.Model;

namespace GrokLens.Tests.Checkpoints.Xai;

public class XaiCheckpointTests
{
    [Fact]
    public void LayerFilesFollowTheLexicographicOrderOfSpec4_2()
    {
        // Grok-1's 64 layers: layer 0 → file 2, 1 → 14, 10 → 26, 2 → 146, 63 → 722, 9 → 758.
        Assert.Equal([2, 14, 26, 146, 722, 758], new[] { 0, 1, 10, 2, 63, 9 }.Select(l => XaiCheckpoint.LayerBlockStart(l, 64)));
    }

    [Fact]
    public void EveryWeightMatchesPythonsDequantisationBitForBit()
    {
        using var mini = new XaiMiniature(XaiMiniature.TwelveLayers());
        var checkpoint = XaiCheckpoint.Open(mini.Path, mini.Config.NumLayers);
        var source = new XaiWeightSource(checkpoint);
        int compared = 0;
        foreach (var (id, shape) in GrokModel.Inventory(mini.Config))
        {
            var name = id.ToString();
            using var loaded = source.Create(id, shape);
            Assert.Equal(shape, loaded.shape);
            Assert.True(mini.ExpectedBytes(name).AsSpan().SequenceEqual(loaded.bytes), $"{name} differs from the Python reference");
            compared++;
        }
        Assert.Equal(2 + 12 * 12, compared);
    }

    [Fact]
    public void RawReleaseRunsResidentInt8AndStreamedWithEqualResults()
    {
        using var mini = new XaiMiniature(XaiMiniature.TwelveLayers() with { NumLayers = 2 });
        var tokens = new[] { 3, 14, 15, 92, 65, 35 };
        using var resident = ModelLoader.Load(mini.Path);
        using var int8 = ModelLoader.Load(Path.Combine(mini.Path, "ckpt-0"), new LoadOptions { Int8Weights = true });
        using var streamed = ModelLoader.Load(mini.Path, new LoadOptions { StreamLayers = true });
        Assert.StartsWith("xAI raw release", resident.Format);
        Assert.Contains("int8 weights", int8.Format);
        using var a = resident.Run(tokens);
        using var b = int8.Run(tokens);
        using var c = streamed.Run(tokens);
        Assert.True(a.Logits.isfinite().all().item<bool>());
        KernelTolerance.AssertClose(a.Logits, b.Logits, "int8 residency");
        Assert.True(b.Logits.equal(c.Logits).all().item<bool>(), "streaming must equal int8 residency (the same kernels on the same mapped files)");
        // Rerouted by a hook (every slot to expert 3), int8 still multiplies exactly the experts that are used.
        HookFunction toExpert3 = (indices, _) => TorchSharp.torch.full_like(indices, 3);
        var reroute = new RunOptions { Hooks = [("blocks.1.moe.hook_topk_indices", toExpert3)] };
        using var d = resident.Run(tokens, reroute);
        using var e = int8.Run(tokens, reroute);
        Assert.False(a.Logits.equal(d.Logits).all().item<bool>(), "the hook must change the result");
        KernelTolerance.AssertClose(d.Logits, e.Logits, "rerouted int8");
        AssertPanelProperties(mini.Config, resident, int8, streamed);
    }

    /// <summary>Format, quantisation, device map and weight memory as the model panel shows them.</summary>
    private static void AssertPanelProperties(GrokConfig c, LoadedModel resident, LoadedModel int8, LoadedModel streamed)
    {
        Assert.All(new[] { resident, int8, streamed }, m => Assert.StartsWith("xAI raw release", m.CheckpointFormat));
        Assert.All(new[] { resident, int8, streamed }, m => Assert.Equal("0-1:cpu", m.DeviceMap));
        Assert.StartsWith("none (float32, dequantised at load", resident.Quantisation);
        Assert.StartsWith("int8 weight-only", int8.Quantisation);
        Assert.StartsWith("int8 weight-only", streamed.Quantisation);
        Assert.Equal([WeightResidency.Resident, WeightResidency.Int8, WeightResidency.Streamed], new[] { resident, int8, streamed }.Select(m => m.Residency));

        long d = c.HiddenSize, q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim, e = c.NumExperts, f = c.ExpertSize;
        long globals = c.VocabSize * d + d;
        long floatsPerLayer = 4 * d + e * d;
        long int8PerLayer = d * q + 2 * d * kv + q * d + 3 * e * d * f;
        // Scales as the miniature writes them (SPEC §4.3): one row for q/k/v and the expert gate/up, 8 for o and down.
        long scalesPerLayer = q + 2 * kv + 8 * d + e * f + e * f + e * 8 * d;
        Assert.Equal(new Dictionary<string, long> { ["cpu"] = 4 * c.ParameterCount }, resident.WeightBytesByDevice);
        // int8 matrices stay in the mapped repack files: page cache, shown apart.
        Assert.Equal(new Dictionary<string, long>
            {
                ["cpu"] = 4 * globals + c.NumLayers * 4 * floatsPerLayer,
                ["cpu (mapped file)"] = c.NumLayers * (int8PerLayer + 4 * scalesPerLayer),
            },
            int8.WeightBytesByDevice);
        // Streaming reads only the matrices per layer: norms and routers are small and stay resident.
        Assert.Equal(new Dictionary<string, long> { ["cpu"] = 4 * globals + c.NumLayers * 4 * floatsPerLayer }, streamed.WeightBytesByDevice);
    }

    [Fact]
    public void PickleCallingAnythingElseIsRefusedWithoutRunningIt()
    {
        using var mini = new XaiMiniature(XaiMiniature.TwelveLayers() with { NumLayers = 1 });
        var marker = Path.Combine(mini.Path, "pwned");
        // protocol 2: GLOBAL os.system, ("touch <marker>",), REDUCE, STOP.
        var command = System.Text.Encoding.ASCII.GetBytes("touch " + marker);
        var evil = new List<byte> { 0x80, 2 };
        evil.AddRange("cos\nsystem\n"u8.ToArray());
        evil.Add(0x58);
        evil.AddRange(BitConverter.GetBytes(command.Length));
        evil.AddRange(command);
        evil.AddRange(new byte[] { 0x85, 0x52, 0x2E });
        File.WriteAllBytes(Path.Combine(mini.Path, "ckpt-0", XaiCheckpoint.FileName(7)), evil.ToArray()); // layer 0's pre-attention norm
        var ex = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(mini.Path).Dispose());
        Assert.Contains("os.system", ex.Message);
        Assert.Contains(XaiCheckpoint.FileName(7), ex.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void MissingOrExtraFilesAreReportedByName()
    {
        using var mini = new XaiMiniature(XaiMiniature.TwelveLayers() with { NumLayers = 1 });
        var extra = Path.Combine(mini.Path, "ckpt-0", XaiCheckpoint.FileName(14));
        File.Copy(Path.Combine(mini.Path, "ckpt-0", XaiCheckpoint.FileName(13)), extra);
        var tooMany = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(mini.Path).Dispose());
        Assert.Contains("more files than 1 layers", tooMany.Message);
        File.Delete(extra);
        File.Delete(Path.Combine(mini.Path, "ckpt-0", XaiCheckpoint.FileName(5)));
        var missing = Assert.Throws<CheckpointFormatException>(() => ModelLoader.Load(mini.Path).Dispose());
        Assert.Contains(XaiCheckpoint.FileName(5), missing.Message);
    }
}
