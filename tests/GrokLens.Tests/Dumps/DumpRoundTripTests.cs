using System.Security.Cryptography;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Interventions;
using static GrokLens.Tests.Dumps.DumpTestData;

namespace GrokLens.Tests.Dumps;

public class DumpRoundTripTests
{
    [Fact]
    public void AShardedFolderDumpReadsBackEveryHookExactlyWithItsManifest()
    {
        using var model = LoadFixture();
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "dump");
        var written = WriteFixtureDump(model, path, shardBytes: 4096);

        using var expected = InterventionRunner.Run(model, Tokens, Ablation, RunOptions.CaptureOnly("*"));
        using var dump = DumpReader.Open(path);
        var run = Assert.Single(dump.Runs);
        Assert.Equal(Tokens, run.TokenIds);
        Assert.Null(run.Prompt);
        Assert.Null(run.Pieces); // The fixture has no tokenizer.
        Assert.Equal(InterventionJson.Serialize(Ablation), InterventionJson.Serialize(DumpReader.Interventions(run)));
        Assert.Equal(expected.Cache.Names, run.Hooks.Select(h => h.Name));
        Assert.True(dump.Manifest.Files.Count > 5, "a 4 KB bound must split the capture into many files");

        var meanings = HookPoints.All(model.Config).ToDictionary(h => h.Name, h => h.Meaning);
        using var cache = dump.LoadCache(run);
        foreach (var hook in run.Hooks)
        {
            Assert.Equal(hook.Name, hook.Tensor); // One run: tensor names are the hook names.
            Assert.Equal(meanings[hook.Name], hook.Meaning);
            Assert.Equal(expected.Cache[hook.Name].shape, hook.Shape);
            var want = expected.Cache[hook.Name];
            AssertIdentical(want.dtype == ScalarType.Int64 ? want : want.to_type(ScalarType.Float32), cache[hook.Name], hook.Name);
        }
        Assert.Equal("I32", run.Hooks.Single(h => h.Name == "blocks.0.moe.hook_topk_indices").Dtype);

        // Every data file holds at most 4 KB of tensor data unless a single tensor is bigger.
        foreach (var file in dump.Manifest.Files)
        {
            var tensors = run.Hooks.Where(h => h.File == file.Name).ToList();
            long bytes = tensors.Sum(h => h.Shape.Aggregate(4L, (a, b) => a * b));
            Assert.True(bytes <= 4096 || tensors.Count == 1, $"{file.Name} holds {bytes} bytes in {tensors.Count} tensors");
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(path, file.Name)))), file.Sha256);
        }

        // The weights fingerprint itself is checked in WeightsFingerprintTests; here it is recorded for the loaded file.
        Assert.Equal("model.safetensors", Assert.Single(dump.Manifest.Model.WeightFiles).Name);
        Assert.Equal(DumpDescriptions.Model(model).WeightsFingerprint, dump.Manifest.Model.WeightsFingerprint);
        Assert.Equal(DumpFormat.Version, dump.Manifest.FormatVersion);
        Assert.Equal("grok1-mini", dump.Manifest.Model.Name);
        Assert.Equal(model.Config, dump.Config);
        Assert.True(dump.Manifest.Complete);
        Assert.Equal(written.Files, dump.Manifest.Files);
    }

    [Fact]
    public void AZipStreamRoundTripsTwoRunsWithRunPrefixedTensorNames()
    {
        using var model = TestModels.RandomLoaded();
        using var first = model.Run([1, 2, 3], RunOptions.CaptureOnly("blocks.*.attn.hook_pattern", "logits"));
        using var second = model.Run([4, 5], RunOptions.CaptureOnly("blocks.*.attn.hook_pattern", "logits"));
        var zip = new MemoryStream();
        DumpWriter.WriteZip(zip, model,
            [DumpWriter.FromRun(model, first, "a"), DumpWriter.FromRun(model, second, "b", hookPatterns: ["logits"])],
            new DumpWriteOptions { ShardBytes = 1000 });

        // An upload stream cannot seek: the reader spools it first.
        using var dump = DumpReader.OpenZip(new ForwardOnlyStream(zip.ToArray()));
        Assert.Equal(["a", "b"], dump.Runs.Select(r => r.Id));
        Assert.Null(dump.Manifest.Model.WeightsFingerprint); // Random weights have no files.
        Assert.Equal("a/blocks.1.attn.hook_pattern", dump.Run("a").Hooks.Single(h => h.Name == "blocks.1.attn.hook_pattern").Tensor);
        Assert.Equal(["logits"], dump.Run("b").Hooks.Select(h => h.Name));
        using var a = dump.LoadCache(dump.Run("a"), ["blocks.1.*"]);
        Assert.Equal(["blocks.1.attn.hook_pattern"], a.Names);
        AssertIdentical(first.Cache["blocks.1.attn.hook_pattern"], a["blocks.1.attn.hook_pattern"], "pattern");
        using var b = dump.LoadCache(dump.Run("b"));
        AssertIdentical(second.Cache["logits"], b["logits"], "logits");
    }

    [Fact]
    public void AnExistingDumpIsReplacedOnlyWhenAsked()
    {
        using var model = TestModels.RandomLoaded();
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "dump");
        using var run = model.Run([1, 2], RunOptions.CaptureOnly("logits"));
        var content = DumpWriter.FromRun(model, run);
        DumpWriter.WriteFolder(path, model, [content]);
        var error = Assert.Throws<IOException>(() => DumpWriter.WriteFolder(path, model, [content]));
        Assert.Contains("already exists", error.Message);

        using var other = model.Run([7, 8, 9], RunOptions.CaptureOnly("logits"));
        DumpWriter.WriteFolder(path, model, [DumpWriter.FromRun(model, other)], new DumpWriteOptions { Overwrite = true });
        using var dump = DumpReader.Open(path);
        Assert.Equal([7, 8, 9], dump.Runs[0].TokenIds);
        Assert.Equal([path], Directory.GetDirectories(folder.Path)); // No temporary or old folders left behind.
    }

    /// <summary>A read-only stream that cannot seek, like a browser upload.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 777));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
