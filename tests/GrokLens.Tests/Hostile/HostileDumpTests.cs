using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using GrokLens.Dumps;
using static GrokLens.Tests.Dumps.DumpTestData;

namespace GrokLens.Tests.Hostile;

/// <summary>Damaged and hostile dumps are refused with a message naming the problem.</summary>
public class HostileDumpTests : IDisposable
{
    private readonly TempDirectory folder = new();
    private readonly string dump;

    public HostileDumpTests()
    {
        dump = Path.Combine(folder.Path, "dump");
        using var model = TestModels.RandomLoaded();
        using var run = model.Run([1, 2, 3, 4], GrokLens.Engine.RunOptions.CaptureOnly("blocks.*.attn.hook_pattern", "logits"));
        DumpWriter.WriteFolder(dump, model, [DumpWriter.FromRun(model, run)], new DumpWriteOptions { ShardBytes = 512 });
    }

    public void Dispose() => folder.Dispose();

    private string DataFile(int index = 0) => Path.Combine(dump, ReadManifest()["files"]![index]!["name"]!.GetValue<string>());

    private JsonObject ReadManifest() => JsonNode.Parse(File.ReadAllText(Path.Combine(dump, "manifest.json")))!.AsObject();

    private void WriteManifest(JsonObject manifest) => File.WriteAllText(Path.Combine(dump, "manifest.json"), manifest.ToJsonString());

    private string Refusal() => Assert.Throws<DumpFormatException>(() => DumpReader.Open(dump).Dispose()).Message;

    [Fact]
    public void TheUntouchedDumpOpens()
    {
        using var reader = DumpReader.Open(dump);
        Assert.True(reader.Manifest.Files.Count >= 2);
    }

    [Fact]
    public void ATruncatedFileIsReportedWithItsSizes()
    {
        var path = DataFile();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var message = Refusal();
        Assert.Contains(Path.GetFileName(path), message);
        Assert.Contains($"is {bytes.Length - 10} bytes, the manifest says {bytes.Length}", message);
    }

    [Fact]
    public void AFlippedByteFailsTheChecksum()
    {
        var path = DataFile();
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var message = Refusal();
        Assert.Contains("fails its checksum", message);
        Assert.Contains(Path.GetFileName(path), message);
    }

    [Fact]
    public void AFutureFormatVersionIsRefusedByVersion()
    {
        var manifest = ReadManifest();
        manifest["format_version"] = 3;
        manifest["something_new"] = "x";
        WriteManifest(manifest);
        Assert.Contains("format version 3, newer than", Refusal());
    }

    [Fact]
    public void AManifestPointingOutsideTheDumpIsRefused()
    {
        File.WriteAllBytes(Path.Combine(folder.Path, "x.safetensors"), File.ReadAllBytes(DataFile()));
        var manifest = ReadManifest();
        manifest["files"]![0]!["name"] = "../x.safetensors";
        WriteManifest(manifest);
        var message = Refusal();
        Assert.Contains("'../x.safetensors'", message);
        Assert.Contains("not a plain file name", message);
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        var path = DataFile(1);
        File.Delete(path);
        Assert.Contains($"data file '{Path.GetFileName(path)}' is missing", Refusal());
    }

    [Fact]
    public void AHeaderLengthBeyondTheFileIsCaughtEvenWithAMatchingChecksum()
    {
        // A hostile writer can make size and hash agree; the safetensors header is still checked.
        var path = DataFile();
        var bytes = File.ReadAllBytes(path);
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)bytes.Length * 4);
        File.WriteAllBytes(path, bytes);
        var manifest = ReadManifest();
        manifest["files"]![0]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
        WriteManifest(manifest);
        var message = Refusal();
        Assert.Contains("not valid safetensors", message);
        Assert.Contains("header length", message);
    }

    [Fact]
    public void AShapeThatDisagreesWithTheFileIsRefused()
    {
        var manifest = ReadManifest();
        var hook = manifest["runs"]![0]!["hooks"]![0]!;
        hook["shape"] = new JsonArray(4, 4, 5);
        WriteManifest(manifest);
        Assert.Contains("the manifest says [4, 4, 5]", Refusal());
    }

    [Fact]
    public void AManifestThatIsNotADumpManifestIsRefused()
    {
        var manifest = ReadManifest();
        manifest.Remove("runs");
        WriteManifest(manifest);
        Assert.Contains("does not match the schema", Refusal());
        File.WriteAllText(Path.Combine(dump, "manifest.json"), "{ not json");
        Assert.Contains("not valid JSON", Refusal());
    }

    [Fact]
    public void AZipWithAPathTraversalEntryIsRefusedBeforeAnythingIsWritten()
    {
        var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            archive.CreateEntryFromFile(Path.Combine(dump, "manifest.json"), "manifest.json");
            using var evil = archive.CreateEntry("../../evil.safetensors").Open();
            evil.Write("boom"u8);
        }
        zip.Position = 0;
        var temp = Path.Combine(folder.Path, "extract");
        Directory.CreateDirectory(temp);
        var error = Assert.Throws<DumpFormatException>(() => DumpReader.OpenZip(zip, new DumpReadOptions { TemporaryRoot = temp }));
        Assert.Contains("'../../evil.safetensors'", error.Message);
        Assert.False(File.Exists(Path.Combine(folder.Path, "evil.safetensors")));
        Assert.Empty(Directory.GetFileSystemEntries(temp)); // The partial extraction is cleaned up.
    }

    [Fact]
    public void AZipOverTheSizeLimitIsRefused()
    {
        var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var file in Directory.GetFiles(dump)) archive.CreateEntryFromFile(file, Path.GetFileName(file));
        zip.Position = 0;
        var error = Assert.Throws<DumpFormatException>(() => DumpReader.OpenZip(zip, new DumpReadOptions { MaxZipBytes = 1000 }));
        Assert.Contains("over the 1000-byte limit", error.Message);
        zip.Position = 0;
        using var fine = DumpReader.OpenZip(zip);
        Assert.Single(fine.Runs);
    }

    [Fact]
    public void InterventionsThatDoNotFitTheRecordedModelAreRefused()
    {
        var manifest = ReadManifest();
        manifest["runs"]![0]!["interventions"] = JsonNode.Parse("""[{"type": "ablate_expert", "layer": 99, "expert": 0}]""");
        WriteManifest(manifest);
        var message = Refusal();
        Assert.Contains("run 'run0' records an invalid intervention", message);
        Assert.Contains("layer 99 does not exist", message);
    }

    [Fact]
    public void AConfigThatDoesNotFitTheStoredTensorsIsRefusedBeforeAnyIsRead()
    {
        // The stored attention patterns are [H, 4, 4] of the real config; the manifest claims twice the heads.
        var manifest = ReadManifest();
        var heads = manifest["model"]!["config"]!["num_attention_heads"]!.GetValue<int>();
        manifest["model"]!["config"]!["num_attention_heads"] = heads * 2;
        manifest["model"]!["config"]!["num_key_value_heads"] = heads * 2;
        WriteManifest(manifest);
        var message = Refusal();
        Assert.Contains("blocks.0.attn.hook_pattern", message);
        Assert.Contains($"[H, T, Tk] = [{heads * 2}, 4, 4]", message);
    }

    [Fact]
    public void AHookOfALayerTheConfigDoesNotHaveIsRefused()
    {
        var manifest = ReadManifest();
        manifest["model"]!["config"]!["num_hidden_layers"] = 1;
        WriteManifest(manifest);
        Assert.Contains("hook 'blocks.1.attn.hook_pattern' is of layer 1, but the dump's model config has 1 layers", Refusal());
    }

    [Fact]
    public void AHookNameThatIsNoHookIsRefused()
    {
        var manifest = ReadManifest();
        manifest["runs"]![0]!["hooks"]![0]!["name"] = "blocks.0.attn.hook_everything";
        WriteManifest(manifest);
        Assert.Contains("'blocks.0.attn.hook_everything' is not a hook name", Refusal());
    }

    [Fact]
    public void EveryHookOfAGrok2ModelPassesTheCheckAndGrok2HooksInAGrok1DumpDoNot()
    {
        // The check knows every hook the model has, Grok-2's dense MLP and uncapped logits included.
        var grok2 = Path.Combine(folder.Path, "grok2");
        using (var model = GrokLens.Loading.ModelLoader.Load(Path.Combine(TestModels.RepositoryRoot(), "tests", "fixtures", "grok2-mini")))
        using (var run = model.Run([1, 2, 3], GrokLens.Engine.RunOptions.CaptureOnly("*")))
        {
            Assert.Contains("blocks.0.mlp.hook_post", run.Cache.Names);
            DumpWriter.WriteFolder(grok2, model, [DumpWriter.FromRun(model, run)]);
        }
        using (var reader = DumpReader.Open(grok2))
            Assert.Contains(reader.Runs[0].Hooks, h => h.Name == "hook_logits_uncapped");

        var manifest = ReadManifest();
        manifest["runs"]![0]!["hooks"]![0]!["name"] = "blocks.0.mlp.hook_post";
        WriteManifest(manifest);
        Assert.Contains("'blocks.0.mlp.hook_post' is not a hook name of the dump's model", Refusal());
    }

    [Fact]
    public void AManifestOverTheLimitIsRefusedAfterReadingNoMoreThanTheLimit()
    {
        var manifest = ReadManifest();
        manifest["runs"]![0]!["prompt"] = new string('x', 8 << 20);
        WriteManifest(manifest);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DumpFormatException>(() => DumpReader.Open(dump, new DumpReadOptions { MaxManifestBytes = 1 << 20 }).Dispose());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("manifest.json is over the 1048576-byte limit", error.Message);
        Assert.True(allocated < 3 << 20, $"allocated {allocated:N0} bytes to refuse it");
    }

    [Fact]
    public void AManifestIsParsedWithinAFewTimesItsSize()
    {
        // A 40 MB prompt: read as UTF-8 bytes into the records, not as a string, a document tree and then the records.
        var manifest = ReadManifest();
        manifest["runs"]![0]!["prompt"] = new string('x', 40 << 20);
        WriteManifest(manifest);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (DumpReader.Open(dump)) { }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 3.5 * (40 << 20), $"opening a 40 MB manifest allocated {allocated / 1048576.0:0} MB");
    }
}
