using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Checkpoints.Xai;
using GrokLens.Files;
using GrokLens.Loading;
using GrokLens.Tests.Checkpoints.Xai;
using GrokLens.Tests.Cli;
using GrokLens.Tokenization;

namespace GrokLens.Tests.Hostile;

/// <summary>
/// Hostile model files: each is a clear error (exit code 1 from the CLI, never an internal error or a native stack
/// trace), refused before it can allocate what it claims.
/// </summary>
public class HostileCheckpointTests : IDisposable
{
    private readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    private string PathOf(string name) => Path.Combine(folder.Path, name);

    /// <summary>Runs the CLI's info on <paramref name="model"/> and checks it fails as an expected error naming <paramref name="phrase"/>.</summary>
    private static void InfoFailsClearly(string model, string phrase)
    {
        var result = CliOutput.Run("info", "--model", model);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(phrase, result.Error);
        Assert.DoesNotContain("internal error", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    /// <summary>Bytes this thread allocates while <paramref name="action"/> runs (it is expected to throw <typeparamref name="T"/>).</summary>
    private static (T Error, long Allocated) Allocating<T>(Action action) where T : Exception
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<T>(action);
        return (error, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void GgufDimensionsWhoseBytesOverflowAreRefused()
    {
        var path = new HostileGguf().String("general.architecture", "grok")
            .Tensor("token_embd.weight", GgmlType.F32, 0, 1UL << 40, 1UL << 22).Write(PathOf("huge.gguf"), dataBytes: 64);
        var error = Assert.Throws<CheckpointFormatException>(() => GgufFile.Open(path).Dispose());
        Assert.Contains("token_embd.weight", error.Message);
        Assert.Contains("need more bytes than any file can hold", error.Message);
        InfoFailsClearly(path, "need more bytes than any file can hold");
    }

    [Fact]
    public void GgufTensorsSharingBytesAreRefused()
    {
        var path = new HostileGguf().String("general.architecture", "grok")
            .Tensor("a.weight", GgmlType.F32, 0, 64)
            .Tensor("b.weight", GgmlType.F32, 128, 64)
            .Tensor("c.weight", GgmlType.F32, 64, 64) // bytes 64…320 overlap a (0…256)
            .Write(PathOf("overlap.gguf"), dataBytes: 1024);
        var error = Assert.Throws<CheckpointFormatException>(() => GgufFile.Open(path).Dispose());
        Assert.Contains("overlaps tensor 'a.weight'", error.Message);
        InfoFailsClearly(path, "overlaps tensor");
    }

    [Fact]
    public void GgufTensorsSideBySideAreAccepted()
    {
        var path = new HostileGguf().String("general.architecture", "grok")
            .Tensor("a.weight", GgmlType.F32, 0, 64).Tensor("b.weight", GgmlType.F32, 256, 64).Write(PathOf("fine.gguf"), dataBytes: 512);
        using var file = GgufFile.Open(path);
        Assert.Equal(["a.weight", "b.weight"], file.TensorNames);
    }

    [Fact]
    public void AGgufMetadataArrayClaimingGigabytesIsRefusedBeforeAllocating()
    {
        // 48 MB of UInt8 elements: each would take 24 bytes or more once read, 1.8 GB before this fix.
        var path = new HostileGguf().String("general.architecture", "grok").UInt8Array("tokenizer.ggml.token_type", 48_000_000)
            .Write(PathOf("metadata.gguf"));
        var (error, allocated) = Allocating<CheckpointFormatException>(() => GgufFile.Open(path).Dispose());
        Assert.Contains("tokenizer.ggml.token_type", error.Message);
        Assert.Contains("more than 256 MB of memory", error.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated:N0} bytes before refusing");
        InfoFailsClearly(path, "more than 256 MB of memory");
    }

    [Fact]
    public void GgufMetadataArraysAreReadAsTypedArrays()
    {
        var path = new HostileGguf().String("general.architecture", "grok").UInt8Array("x.flags", 1000).Write(PathOf("small.gguf"));
        using var file = GgufFile.Open(path);
        var flags = Assert.IsType<long[]>(file.Value("x.flags"));
        Assert.Equal(1000, flags.Length);
        Assert.All(flags, f => Assert.Equal(0, f));
    }

    [Fact]
    public void APickleBinstringClaiming4GBIsAClearError()
    {
        using var mini = new XaiMiniature(XaiMiniature.TwelveLayers() with { NumLayers = 1 });
        // protocol 2, BINSTRING with length 0xFFFFFFFF and three bytes after it.
        byte[] pickle = [0x80, 2, 0x54, 0xFF, 0xFF, 0xFF, 0xFF, (byte)'a', (byte)'b', (byte)'c'];
        var tensorFile = Path.Combine(mini.Path, "ckpt-0", XaiCheckpoint.FileName(0));
        File.WriteAllBytes(tensorFile, pickle);
        using var mapped = MappedFile.Open(tensorFile);
        var (error, allocated) = Allocating<CheckpointFormatException>(() => XaiTensorFile.Read(mapped));
        Assert.Contains("4294967295-byte string runs past the end of the file", error.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated:N0} bytes before refusing");
        InfoFailsClearly(mini.Path, "runs past the end of the file");
    }

    [Fact]
    public void ATokenizerModelLinkedToDevZeroIsRefusedAfterABoundedRead()
    {
        var link = PathOf(ModelLoader.TokenizerFileName);
        File.CreateSymbolicLink(link, "/dev/zero");
        var (error, allocated) = Allocating<FileTooLargeException>(() => GrokSentencePieceTokenizer.Load(link));
        Assert.Contains("a link to /dev/zero", error.Message);
        Assert.Contains("SentencePiece tokenizer model is at most", error.Message);
        Assert.True(allocated < 2 * GrokSentencePieceTokenizer.MaxModelFileBytes, $"allocated {allocated:N0} bytes");

        // The same through the CLI: a model folder whose tokenizer.model is that link.
        var model = Directory.CreateDirectory(PathOf("model")).FullName;
        foreach (var file in Directory.EnumerateFiles(TestModels.FixtureDirectory, "*.json").Concat(Directory.EnumerateFiles(TestModels.FixtureDirectory, "*.safetensors")))
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        File.CreateSymbolicLink(Path.Combine(model, ModelLoader.TokenizerFileName), "/dev/zero");
        InfoFailsClearly(model, "a link to /dev/zero");
    }

    [Fact]
    public void AConfigLinkedToDevZeroIsRefusedAfterABoundedRead()
    {
        var model = Directory.CreateDirectory(PathOf("config-zero")).FullName;
        File.Copy(Path.Combine(TestModels.FixtureDirectory, "model.safetensors"), Path.Combine(model, "model.safetensors"));
        File.CreateSymbolicLink(Path.Combine(model, ModelLoader.ConfigFileName), "/dev/zero");
        InfoFailsClearly(model, "a model's config.json is a few KB");
    }

    [Fact]
    public void ASafetensorsIndexLinkedToDevZeroIsRefused()
    {
        var model = Directory.CreateDirectory(PathOf("sharded")).FullName;
        File.Copy(Path.Combine(TestModels.FixtureDirectory, "config.json"), Path.Combine(model, "config.json"));
        File.Copy(Path.Combine(TestModels.FixtureDirectory, "model.safetensors"), Path.Combine(model, "model-00001-of-00001.safetensors"));
        File.CreateSymbolicLink(Path.Combine(model, "model.safetensors.index.json"), "/dev/zero");
        InfoFailsClearly(model, "safetensors index is at most");
    }

    [Fact]
    public void BoundedReadsReturnFilesUpToTheLimitAndRefuseLarger()
    {
        var path = PathOf("ten.txt");
        File.WriteAllText(path, "0123456789");
        Assert.Equal("0123456789", BoundedFile.ReadAllText(path, 10, "test file"));
        var error = Assert.Throws<FileTooLargeException>(() => BoundedFile.ReadAllText(path, 9, "test file"));
        Assert.Contains("is 10 bytes; a test file is at most 9 bytes", error.Message);
    }
}
