using GrokLens.Checkpoints;

namespace GrokLens.Tests.Checkpoints;

/// <summary>Every malformed input gives a <see cref="CheckpointFormatException"/> that names the file and the problem.</summary>
public class SafetensorsMalformedTests
{
    private const string OneTensor = """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""";

    private static CheckpointFormatException OpenFails(string path)
    {
        var ex = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, ex.Message);
        return ex;
    }

    [Fact]
    public void FileShorterThanLengthField()
    {
        using var folder = new TempFolder();
        var path = folder.File("tiny.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var ex = OpenFails(path);
        Assert.Contains("too short", ex.Message);
    }

    [Fact]
    public void TruncatedData()
    {
        using var folder = new TempFolder();
        var path = folder.WriteRaw("cut.safetensors", OneTensor, new byte[10]);
        var ex = OpenFails(path);
        Assert.Contains("tensor 'w'", ex.Message);
        Assert.Contains("outside the data section", ex.Message);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void HeaderLengthBeyondFile()
    {
        using var folder = new TempFolder();
        var path = folder.WriteRaw("long.safetensors", OneTensor, new byte[16], headerLengthField: 5000);
        var ex = OpenFails(path);
        Assert.Contains("header length field says 5000 bytes", ex.Message);
    }

    [Fact]
    public void HostileHeaderLength()
    {
        using var folder = new TempFolder();
        var path = folder.WriteRaw("hostile.safetensors", OneTensor, new byte[16], headerLengthField: 1UL << 63);
        var ex = OpenFails(path);
        Assert.Contains("header length field says 9223372036854775808 bytes", ex.Message);
    }

    [Fact]
    public void MalformedJson()
    {
        using var folder = new TempFolder();
        var path = folder.WriteRaw("json.safetensors", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]""", new byte[16]);
        var ex = OpenFails(path);
        Assert.Contains("not valid JSON", ex.Message);
    }

    [Fact]
    public void HeaderOfWrongShape()
    {
        using var folder = new TempFolder();
        var path = folder.WriteRaw("shape.safetensors", """{"w":{"dtype":"F32","shape":[2,-2],"data_offsets":[0,16]}}""", new byte[16]);
        var ex = OpenFails(path);
        Assert.Contains("tensor 'w'", ex.Message);
        Assert.Contains("\"shape\" must hold non-negative integers", ex.Message);
    }

    [Fact]
    public void UnknownDType()
    {
        using var folder = new TempFolder();
        var path = folder.WriteRaw("dtype.safetensors", """{"w":{"dtype":"F8_E4M3","shape":[16],"data_offsets":[0,16]}}""", new byte[16]);
        var ex = OpenFails(path);
        Assert.Contains("tensor 'w'", ex.Message);
        Assert.Contains("unknown dtype \"F8_E4M3\"", ex.Message);
    }

    [Fact]
    public void OffsetsInconsistentWithShape()
    {
        using var folder = new TempFolder();
        var path = folder.WriteRaw("size.safetensors", """{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}""", new byte[24]);
        var ex = OpenFails(path);
        Assert.Contains("tensor 'w'", ex.Message);
        Assert.Contains("span 16 bytes", ex.Message);
        Assert.Contains("needs 24 bytes", ex.Message);
    }

    [Fact]
    public void OverlappingOffsets()
    {
        using var folder = new TempFolder();
        var path = folder.WriteRaw("overlap.safetensors",
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", new byte[16]);
        var ex = OpenFails(path);
        Assert.Contains("overlap", ex.Message);
        Assert.Contains("'a'", ex.Message);
        Assert.Contains("'b'", ex.Message);
    }

    [Fact]
    public void OffsetsOutsideData()
    {
        using var folder = new TempFolder();
        var path = folder.WriteRaw("outside.safetensors", """{"w":{"dtype":"F32","shape":[4],"data_offsets":[100,116]}}""", new byte[16]);
        var ex = OpenFails(path);
        Assert.Contains("tensor 'w'", ex.Message);
        Assert.Contains("data_offsets [100, 116] reach outside the data section, which has only 16 bytes", ex.Message);
    }

    [Fact]
    public void MissingTensorRequested()
    {
        using var folder = new TempFolder();
        var path = folder.WriteRaw("ok.safetensors", OneTensor, new byte[16]);
        using var file = SafetensorsFile.Open(path);
        Assert.False(file.Contains("nope"));
        var ex = Assert.Throws<CheckpointFormatException>(() => file.Load("nope"));
        Assert.Contains(path, ex.Message);
        Assert.Contains("tensor 'nope'", ex.Message);
        Assert.Contains("no such tensor", ex.Message);

        using var checkpoint = SafetensorsCheckpoint.Open(path);
        var viaCheckpoint = Assert.Throws<CheckpointFormatException>(() => checkpoint.Info("nope"));
        Assert.Contains("tensor 'nope'", viaCheckpoint.Message);
    }

    private static string WriteIndex(TempFolder folder, string weightMapJson)
    {
        var path = folder.File(SafetensorsWriter.IndexFileName);
        File.WriteAllText(path, $$"""{"metadata":{"total_size":16},"weight_map":{{weightMapJson}}}""");
        return path;
    }

    [Fact]
    public void IndexWithMissingShard()
    {
        using var folder = new TempFolder();
        folder.WriteRaw("model-00001-of-00002.safetensors", OneTensor, new byte[16]);
        var index = WriteIndex(folder, """{"w":"model-00001-of-00002.safetensors","v":"model-00002-of-00002.safetensors"}""");
        var ex = Assert.Throws<CheckpointFormatException>(() => SafetensorsCheckpoint.Open(folder.Path).Dispose());
        Assert.Contains(index, ex.Message);
        Assert.Contains("tensor 'v'", ex.Message);
        Assert.Contains("'model-00002-of-00002.safetensors' does not exist", ex.Message);
    }

    [Theory]
    [InlineData("../outside.safetensors")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/model.safetensors")]
    public void IndexWithPathTraversal(string shard)
    {
        using var folder = new TempFolder();
        var index = WriteIndex(folder, $$"""{"w":"{{shard}}"}""");
        var ex = Assert.Throws<CheckpointFormatException>(() => SafetensorsCheckpoint.Open(folder.Path).Dispose());
        Assert.Contains(index, ex.Message);
        Assert.Contains("tensor 'w'", ex.Message);
        Assert.Contains("not a plain file name", ex.Message);
    }

    [Fact]
    public void IndexMappingTensorToShardWithoutIt()
    {
        using var folder = new TempFolder();
        folder.WriteRaw("shard.safetensors", OneTensor, new byte[16]);
        WriteIndex(folder, """{"w":"shard.safetensors","ghost":"shard.safetensors"}""");
        var ex = Assert.Throws<CheckpointFormatException>(() => SafetensorsCheckpoint.Open(folder.Path).Dispose());
        Assert.Contains("tensor 'ghost'", ex.Message);
        Assert.Contains("does not contain it", ex.Message);
    }

    [Fact]
    public void TensorStoredInTwoShards()
    {
        using var folder = new TempFolder();
        folder.WriteRaw("one.safetensors", OneTensor, new byte[16]);
        folder.WriteRaw("two.safetensors", OneTensor, new byte[16]);
        WriteIndex(folder, """{"w":"one.safetensors","w":"two.safetensors"}""");
        var ex = Assert.Throws<CheckpointFormatException>(() => SafetensorsCheckpoint.Open(folder.Path).Dispose());
        Assert.Contains("tensor 'w'", ex.Message);
        Assert.Contains("two shards", ex.Message);
    }

    [Fact]
    public void FolderWithoutCheckpoint()
    {
        using var folder = new TempFolder();
        var ex = Assert.Throws<CheckpointFormatException>(() => SafetensorsCheckpoint.Open(folder.Path).Dispose());
        Assert.Contains("neither model.safetensors nor model.safetensors.index.json", ex.Message);
    }
}
