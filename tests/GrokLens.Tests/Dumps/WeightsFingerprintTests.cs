using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Tests.Checkpoints.Xai;
using GrokLens.Tests.Cli;

namespace GrokLens.Tests.Dumps;

/// <summary>
/// The weights fingerprint of docs/dump-format.md: checked against a reference written from the documented definition,
/// for every checkpoint format, for the file the loader actually read, and at a size no full hash could afford.
/// </summary>
public class WeightsFingerprintTests : IDisposable
{
    private readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    /// <summary>
    /// The definition, written out independently: SHA-256 of "groklens-weights-fingerprint-1\n", the size (int64 LE), the
    /// header, then the data after it whole when at most 16 × 64 KiB, else 16 blocks of 64 KiB at header + (data − 64 KiB)·i/15.
    /// </summary>
    private static string Reference(string path, long header)
    {
        using var file = File.OpenRead(path);
        long size = file.Length;
        var bytes = new List<byte>("groklens-weights-fingerprint-1\n"u8.ToArray());
        var length = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, size);
        bytes.AddRange(length);
        byte[] Read(long offset, long count)
        {
            var buffer = new byte[count];
            file.Position = offset;
            file.ReadExactly(buffer);
            return buffer;
        }
        bytes.AddRange(Read(0, header));
        long data = size - header;
        if (data <= 16 * 65536) bytes.AddRange(Read(header, data));
        else
            for (int i = 0; i < 16; i++) bytes.AddRange(Read(header + (data - 65536) * i / 15, 65536));
        return Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray()));
    }

    private static long SafetensorsHeader(string path)
    {
        using var file = File.OpenRead(path);
        var field = new byte[8];
        file.ReadExactly(field);
        return 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(field);
    }

    private static string ModelFingerprint(params (string Hash, string Name)[] files) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Concat(files.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => $"{f.Hash}  {f.Name}\n")))));

    private string Copy(string source, string name)
    {
        var path = Path.Combine(folder.Path, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(source, path);
        return path;
    }

    private static string Fixture(string name) => Path.Combine(TestModels.FixtureDirectory, name);

    [Fact]
    public void AFolderWithSafetensorsAndGgufIsFingerprintedByTheSafetensorsItLoads()
    {
        // grok1-mini holds model.safetensors and model.gguf: the loader reads the safetensors from the folder.
        using var model = ModelLoader.Load(TestModels.FixtureDirectory);
        var info = DumpDescriptions.Model(model);
        var safetensors = Fixture("model.safetensors");
        var file = Assert.Single(info.WeightFiles);
        Assert.Equal(("model.safetensors", new FileInfo(safetensors).Length), (file.Name, file.Bytes));
        Assert.Equal(Reference(safetensors, SafetensorsHeader(safetensors)), file.Fingerprint);
        Assert.Equal(ModelFingerprint((file.Fingerprint!, "model.safetensors")), info.WeightsFingerprint);
    }

    [Fact]
    public void AGgufFileGivenByPathIsFingerprintedEvenBesideSafetensors()
    {
        using var model = ModelLoader.Load(Fixture("model.gguf"));
        var info = DumpDescriptions.Model(model);
        var file = Assert.Single(info.WeightFiles);
        Assert.Equal("model.gguf", file.Name);
        using var gguf = GgufFile.Open(Fixture("model.gguf"));
        Assert.Equal(Reference(Fixture("model.gguf"), gguf.DataStart), file.Fingerprint);
    }

    [Fact]
    public void CaptureOnAGgufOnlyFolderWritesADumpOfTheGguf()
    {
        var model = Path.GetDirectoryName(Copy(Fixture("model.gguf"), Path.Combine("gguf-only", "model.gguf")))!;
        var dump = Path.Combine(folder.Path, "dump");
        var result = CliOutput.Run("capture", "--model", model, "--token-ids", "1,2,3", "--hooks", "logits", "--out", dump);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var reader = DumpReader.Open(dump);
        var file = Assert.Single(reader.Manifest.Model.WeightFiles);
        Assert.Equal("model.gguf", file.Name);
        using var gguf = GgufFile.Open(Fixture("model.gguf"));
        Assert.Equal(ModelFingerprint((Reference(Fixture("model.gguf"), gguf.DataStart), "model.gguf")), reader.Manifest.Model.WeightsFingerprint);
    }

    [Fact]
    public void CaptureOnARawXaiFolderFingerprintsEveryTensorFile()
    {
        using var mini = new XaiMiniature(XaiMiniature.TwelveLayers() with { NumLayers = 2 });
        var dump = Path.Combine(folder.Path, "dump");
        var result = CliOutput.Run("capture", "--model", mini.Path, "--token-ids", "1,2,3", "--hooks", "logits", "--out", dump);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var reader = DumpReader.Open(dump);
        var tensorFiles = Directory.GetFiles(Path.Combine(mini.Path, "ckpt-0")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2 + 12 * 2, tensorFiles.Count);
        Assert.Equal(tensorFiles.Select(Path.GetFileName), reader.Manifest.Model.WeightFiles.Select(f => f.Name));
        var expected = tensorFiles.Select(f => (Reference(f, Math.Min(WeightsFingerprint.GenericHeaderBytes, new FileInfo(f).Length)), Path.GetFileName(f)!));
        Assert.Equal(ModelFingerprint(expected.ToArray()), reader.Manifest.Model.WeightsFingerprint);
    }

    [Fact]
    public void APreshardedGrok2FolderIsFingerprintedByAllItsShards()
    {
        var presharded = Path.Combine(folder.Path, "presharded");
        GrokLens.Tests.Fixtures.PreshardedTestWriter.Write(Path.Combine(TestModels.RepositoryRoot(), "tests", "fixtures", "grok2-mini"), presharded, ranks: 2);
        using var model = ModelLoader.Load(presharded);
        var info = DumpDescriptions.Model(model);
        var shards = Directory.GetFiles(presharded, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(3, shards.Count); // the common part and two ranks
        Assert.Equal(shards.Select(Path.GetFileName), info.WeightFiles.Select(f => f.Name));
        Assert.Equal(ModelFingerprint(shards.Select(s => (Reference(s, SafetensorsHeader(s)), Path.GetFileName(s)!)).ToArray()), info.WeightsFingerprint);
    }

    [Fact]
    public void AHugeFileIsFingerprintedFromItsHeaderAndSampledBlocks()
    {
        // A 64 GiB sparse "shard" (no disk used): its fingerprint reads about 1 MB of it.
        var path = Path.Combine(folder.Path, "model-00001-of-00002.safetensors");
        var header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"u8.ToArray();
        using (var file = File.Create(path))
        {
            file.Write(BitConverter.GetBytes((ulong)header.Length));
            file.Write(header);
            file.SetLength(64L << 30);
            file.Position = (64L << 30) - 100;
            file.Write("the last block"u8);
        }
        var fingerprint = WeightsFingerprint.FileFingerprint(path);
        Assert.Equal(Reference(path, 8 + header.Length), fingerprint);

        // A change inside the last sampled block changes it; so does one in the header.
        using (var file = File.OpenWrite(path))
        {
            file.Position = (64L << 30) - 100;
            file.Write("THE LAST BLOCK"u8);
        }
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        var changed = WeightsFingerprint.FileFingerprint(path);
        Assert.NotEqual(fingerprint, changed);
        Assert.Equal(Reference(path, 8 + header.Length), changed);
    }

    [Fact]
    public void AVersion1DumpStillOpensAndMatchesItsModelByTheWholeFileHash()
    {
        using var model = ModelLoader.Load(TestModels.FixtureDirectory);
        var dump = Path.Combine(folder.Path, "v1");
        using (var run = model.Run([1, 2, 3], RunOptions.CaptureOnly("logits")))
            DumpWriter.WriteFolder(dump, model, [DumpWriter.FromRun(model, run)]);
        // Rewrite the manifest as version 1 wrote it: the weights identified by the SHA-256 of the whole files.
        var manifestPath = Path.Combine(dump, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        var weights = Fixture("model.safetensors");
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(weights)));
        manifest["format_version"] = 1;
        var modelInfo = manifest["model"]!.AsObject();
        modelInfo.Remove("weights_fingerprint");
        modelInfo["weights_sha256"] = ModelFingerprint((sha, "model.safetensors"));
        modelInfo["weight_files"] = new JsonArray(new JsonObject { ["name"] = "model.safetensors", ["bytes"] = new FileInfo(weights).Length, ["sha256"] = sha });
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        using var old = DumpReader.Open(dump);
        Assert.Equal(1, old.Manifest.FormatVersion);
        Assert.Null(old.Manifest.Model.WeightsFingerprint);
        Assert.True(DumpDescriptions.IsModelOf(model, old.Manifest.Model));
        using var random = TestModels.RandomLoaded();
        Assert.False(DumpDescriptions.IsModelOf(random, old.Manifest.Model));

        // Against a version 2 dump of the same model, the two identities cannot be compared: name and config decide.
        var current = DumpDescriptions.Model(model);
        Assert.Null(old.Manifest.Model.SameWeights(current));
        Assert.True(current.SameWeights(current));
    }
}
