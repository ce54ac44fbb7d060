using GrokLens.Loading.Naming;
using GrokLens.Checkpoints.Xai;
using GrokLens.Kernels;
using GrokLens.Kernels.Repack;
using GrokLens.Model;
using GrokLens.Tools;

namespace GrokLens.Tests.Kernels;

/// <summary>The repack cache of xAI's raw int8 weights: exact weights through the kernels, reuse, and rebuilds of stale or corrupt files.</summary>
[Collection(LargeTorchOpsCollection.Name)]
public sealed class XaiRepackCacheTests : IDisposable
{
    /// <summary>4 experts of 256 (the down projection's 8 scale blocks are 32 inputs: vector path), q/o of 64 (blocks of 8: scalar path).</summary>
    private static readonly GrokConfig Config = TestModels.SmallConfig(vocab: 50) with
    {
        NumLayers = 1, HiddenSize = 64, NumHeads = 4, NumKvHeads = 2, HeadDim = 16, NumExperts = 4, ExpertSize = 256,
    };

    private readonly TempDirectory _folder = new();
    private readonly XaiCheckpoint _checkpoint;

    public XaiRepackCacheTests()
    {
        SyntheticXaiCheckpoint.Write(_folder.Path, Config, seed: 11);
        _checkpoint = XaiCheckpoint.Open(_folder.Path, 1);
    }

    private string CacheFolder => Path.Combine(_folder.Path, "cache");

    private static (int Index, bool Transposed) Slot(WeightKind kind) => XaiFileSlots.Locate(new WeightId(kind, 0), 1)!.Value;

    private string SourceOf(WeightKind kind) => Path.Combine(_checkpoint.Folder, XaiCheckpoint.FileName(Slot(kind).Index));

    public static TheoryData<WeightKind> QuantizedNames() =>
    [
        WeightKind.ExpertGate, WeightKind.ExpertDown, WeightKind.ExpertUp,
        WeightKind.Query, WeightKind.Key, WeightKind.Value, WeightKind.AttentionOutput,
    ];

    [Theory]
    [MemberData(nameof(QuantizedNames))]
    public void RepackedWeightsAreExactlyXaisDequantisation(WeightKind kind)
    {
        using var repacked = new XaiRepackCache(CacheFolder).Open(SourceOf(kind));
        Assert.Equal("built", repacked.Status);
        var (index, transposed) = Slot(kind);
        using var reference = _checkpoint.Load(index, transposed).Quantized!;
        Assert.Equal(reference.Shape, repacked.Shape);
        using var expected = reference.Dequantize(); // bf16(q·s) with torch's rounding, [.., out, in]
        var w = repacked.Matrix;
        using var identity = TorchSharp.torch.eye(w.Columns);
        foreach (var path in KernelPaths.Supported)
        {
            using var columns = Int8MatMul.Multiply(w, identity, new Int8KernelOptions { Path = path }); // [in, E·out] = Wᵀ
            using var weights = columns.t().reshape(expected.shape);
            Assert.True(weights.equal(expected).all().item<bool>(), $"{kind} on {path}");
        }
    }

    [Fact]
    public void ASecondOpenReusesTheCacheWithoutWriting()
    {
        var source = SourceOf(WeightKind.ExpertDown);
        var cache = new XaiRepackCache(CacheFolder);
        using (var first = cache.Open(source)) Assert.Equal("built", first.Status);
        var written = File.GetLastWriteTimeUtc(cache.CachePathOf(source));
        using (var second = cache.Open(source)) Assert.Equal("reused", second.Status);
        Assert.Equal(written, File.GetLastWriteTimeUtc(cache.CachePathOf(source)));
        Assert.Empty(Directory.GetFiles(CacheFolder, "*.partial"));
    }

    [Fact]
    public void AChangedSourceIsDetectedAndRebuilt()
    {
        var source = SourceOf(WeightKind.Query);
        var cache = new XaiRepackCache(CacheFolder);
        cache.Open(source).Dispose();
        File.SetLastWriteTimeUtc(source, DateTime.UtcNow.AddMinutes(1));
        using (var rebuilt = cache.Open(source)) Assert.StartsWith("rebuilt: the source file changed", rebuilt.Status);

        // Same size and time, different scales (at the end of the pickle): the head/tail hash notices.
        var time = File.GetLastWriteTimeUtc(source);
        var bytes = File.ReadAllBytes(source);
        bytes[^6] ^= 0x01; // the last scale (the pickle ends with 5 opcode bytes)
        File.WriteAllBytes(source, bytes);
        File.SetLastWriteTimeUtc(source, time);
        using var again = cache.Open(source);
        Assert.Equal("rebuilt: the source file's contents changed", again.Status);
    }

    [Fact]
    public void CorruptOrForeignCacheFilesAreRebuiltNeverTrusted()
    {
        var source = SourceOf(WeightKind.ExpertGate);
        var other = SourceOf(WeightKind.ExpertUp);
        var cache = new XaiRepackCache(CacheFolder);
        var path = cache.CachePathOf(source);

        void Expect(string status, Action<byte[]> damage)
        {
            cache.Open(source).Dispose();
            var bytes = File.ReadAllBytes(path);
            damage(bytes);
            File.WriteAllBytes(path, bytes);
            using var reopened = cache.Open(source);
            Assert.Equal(status, reopened.Status);
            Assert.True(XaiRepackCache.VerifyFully(path));
        }

        Expect("rebuilt: its data does not match its checksum (corrupt)", b => b[4096] ^= 1); // first value: a sampled window
        Expect("rebuilt: header checksum mismatch", b => b[200] ^= 1);
        Expect("rebuilt: not a GrokLens repack file", b => b[0] = (byte)'X');
        cache.Open(source).Dispose();
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..5000]);
        using (var truncated = cache.Open(source)) Assert.StartsWith("rebuilt: 5000 bytes", truncated.Status);
        using (cache.Open(other)) File.Copy(cache.CachePathOf(other), path, overwrite: true);
        using (var foreign = cache.Open(source)) Assert.StartsWith("rebuilt: made from", foreign.Status);
    }

    [Fact]
    public void FullVerificationFindsDamageOutsideTheSamples()
    {
        var source = SourceOf(WeightKind.ExpertGate);
        var cache = new XaiRepackCache(CacheFolder);
        cache.Open(source).Dispose();
        var path = cache.CachePathOf(source);
        Assert.True(XaiRepackCache.VerifyFully(path));
        var bytes = File.ReadAllBytes(path);
        bytes[4096 + 4096 + 10] ^= 1; // between the first two 4 KB sample windows
        File.WriteAllBytes(path, bytes);
        Assert.False(XaiRepackCache.VerifyFully(path));
    }

    [Fact]
    public void TheDefaultFolderIsBesideAWritableCheckpoint()
    {
        Assert.Equal(Path.Combine(_checkpoint.Folder, ".groklens-int8"), XaiRepackCache.DefaultFolder(_checkpoint.Folder));
    }

    [Fact]
    public void APlainArrayIsRefused()
    {
        var norm = SourceOf(WeightKind.PreAttentionNorm);
        var error = Assert.Throws<GrokLens.Checkpoints.CheckpointFormatException>(() => new XaiRepackCache(CacheFolder).Open(norm));
        Assert.Contains("nothing to repack", error.Message);
        Assert.Empty(Directory.GetFiles(CacheFolder));
    }

    [Theory]
    [InlineData(48, 80, 16, 32)] // whole 16×16 blocks in SSE registers
    [InlineData(20, 11, 3, 7)] // byte by byte
    public unsafe void TransposeMovesEveryByte(int inputs, int outputs, int firstRow, int rows)
    {
        var source = new byte[inputs * outputs];
        new Random(3).NextBytes(source);
        var target = new byte[rows * inputs];
        fixed (byte* s = source, t = target) XaiRepacker.Transpose(s, inputs, outputs, firstRow, rows, t);
        for (int o = 0; o < rows; o++)
            for (int i = 0; i < inputs; i++)
                Assert.Equal(source[i * outputs + firstRow + o], target[o * inputs + i]);
    }

    public void Dispose() => _folder.Dispose();
}
