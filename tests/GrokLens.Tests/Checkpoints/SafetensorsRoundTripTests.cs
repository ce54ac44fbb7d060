using System.Buffers.Binary;
using GrokLens.Checkpoints;

namespace GrokLens.Tests.Checkpoints;

public class SafetensorsRoundTripTests
{
    private static bool Same(torch.Tensor a, torch.Tensor b)
    {
        using var eq = a.eq(b);
        using var all = eq.all();
        return a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && all.item<bool>();
    }

    [Fact]
    public void RoundTripKeepsDTypesShapesValuesAndMetadata()
    {
        using var folder = new TempFolder();
        var path = folder.File("round.safetensors");
        using var f32 = tensor(new float[] { 1.5f, -2.25f, 3.0e-8f, float.MaxValue, 0f, -0f }, 2, 3);
        using var bf16Source = tensor(new float[] { 1.5f, -2.25f, 0.0078125f, 65536f, -3f, (float)Math.ScaleB(1.5, 99) });
        using var bf16 = bf16Source.to_type(ScalarType.BFloat16);
        using var f16Source = tensor(new float[] { 0.5f, -1024f, 0.1f });
        using var f16 = f16Source.to_type(ScalarType.Float16);
        using var i32 = tensor(new int[] { int.MinValue, -1, 0, 7, int.MaxValue, 42 }, 3, 2);
        using var i64 = tensor(new long[] { long.MinValue, 5, long.MaxValue });
        using var scalar = tensor(3.25f);
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "héllo" };

        SafetensorsWriter.Write(path, [("f32", f32), ("bf16", bf16), ("f16", f16), ("i32", i32), ("i64", i64), ("scalar", scalar)], metadata);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(["bf16", "f16", "f32", "i32", "i64", "scalar"], file.Names.Order());
        Assert.Equal(SafetensorsDType.BF16, file.Info("bf16").DType);
        Assert.Equal(new long[] { 3, 2 }, file.Info("i32").Shape);
        foreach (var (name, expected) in new[] { ("f32", f32), ("bf16", bf16), ("f16", f16), ("i32", i32), ("i64", i64), ("scalar", scalar) })
        {
            using var loaded = file.Load(name);
            Assert.True(Same(expected, loaded), name);
        }

        // BF16 -> float32 is exact: these values are all representable in bfloat16.
        using var widened = file.LoadFloat32("bf16");
        Assert.Equal(ScalarType.Float32, widened.dtype);
        Assert.Equal(new float[] { 1.5f, -2.25f, 0.0078125f, 65536f, -3f, (float)Math.ScaleB(1.5, 99) }, widened.data<float>().ToArray());
        Assert.Equal(1.5f, widened[0].item<float>());
        using var i32AsFloat = file.LoadFloat32("i32");
        Assert.Equal(42f, i32AsFloat[2, 1].item<float>());
    }

    [Fact]
    public void ReadsHalfPrecisionBitPatternsExactly()
    {
        using var folder = new TempFolder();
        // bf16: 0x3FC0 = 1.5, 0xC010 = -2.25, 0x7F80 = +inf; f16: 0x3C00 = 1.0, 0xC500 = -5.0, 0x0001 = 2^-24.
        var data = new byte[12];
        ushort[] bits = [0x3FC0, 0xC010, 0x7F80, 0x3C00, 0xC500, 0x0001];
        for (var i = 0; i < bits.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), bits[i]);
        }
        var path = folder.WriteRaw("half.safetensors",
            """{"b":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"h":{"dtype":"F16","shape":[3],"data_offsets":[6,12]}}""", data);

        using var file = SafetensorsFile.Open(path);
        using var b = file.LoadFloat32("b");
        using var h = file.LoadFloat32("h");
        Assert.Equal(new[] { 1.5f, -2.25f, float.PositiveInfinity }, b.data<float>().ToArray());
        Assert.Equal(new[] { 1.0f, -5.0f, MathF.Pow(2, -24) }, h.data<float>().ToArray());
    }

    [Fact]
    public void WrittenHeaderIsPaddedWithSpacesToEightBytes()
    {
        using var folder = new TempFolder();
        var path = folder.File("aligned.safetensors");
        using var t = tensor(new float[] { 1, 2, 3 });
        SafetensorsWriter.Write(path, [("x", t)]);

        var bytes = File.ReadAllBytes(path);
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + 12, bytes.Length);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.StartsWith("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", header);
        Assert.Equal(header.TrimEnd(' ').Length, header.TrimEnd().Length);
        Assert.Equal(1f, BitConverter.ToSingle(bytes, (int)(8 + headerLength)));
    }

    [Fact]
    public void WriterRefusesToOverwriteUnlessAskedAndLeavesNoTemporaryFiles()
    {
        using var folder = new TempFolder();
        var path = folder.File("once.safetensors");
        using var one = tensor(new float[] { 1 });
        using var two = tensor(new float[] { 2 });
        SafetensorsWriter.Write(path, [("x", one)]);

        var ex = Assert.Throws<IOException>(() => SafetensorsWriter.Write(path, [("x", two)]));
        Assert.Contains("already exists", ex.Message);
        using (var file = SafetensorsFile.Open(path))
        using (var loaded = file.Load("x"))
        {
            Assert.Equal(1f, loaded.item<float>());
        }

        SafetensorsWriter.Write(path, [("x", two)], overwrite: true);
        using (var file = SafetensorsFile.Open(path))
        using (var loaded = file.Load("x"))
        {
            Assert.Equal(2f, loaded.item<float>());
        }
        Assert.Equal(["once.safetensors"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void ChunkedLoadMatchesWholeLoad()
    {
        using var folder = new TempFolder();
        var path = folder.File("chunks.safetensors");
        using var source = arange(0, 1000, dtype: ScalarType.Float32).reshape(10, 100);
        using var halves = source.to_type(ScalarType.BFloat16);
        SafetensorsWriter.Write(path, [("a", source), ("b", halves)]);

        using var file = SafetensorsFile.Open(path);
        foreach (var name in new[] { "a", "b" })
        {
            using var whole = file.Load(name);
            // 12 bytes per chunk: 3 floats or 6 bfloat16s, with a ragged last chunk.
            using var chunked = file.Load(name, null, chunkBytes: 12);
            Assert.True(Same(whole, chunked), name);
        }
    }

    [Fact]
    public void ShardedWriteReadsBackLikeSingleFile()
    {
        using var folder = new TempFolder();
        using var a = randn(16, 8);
        using var bSource = randn(32);
        using var b = bSource.to_type(ScalarType.BFloat16);
        using var c = tensor(new int[] { 1, 2, 3, 4 });
        using var d = randn(4, 4, 4);
        (string, torch.Tensor)[] tensors = [("a", a), ("b", b), ("c", c), ("d", d)];
        var singlePath = folder.File("single.safetensors");
        SafetensorsWriter.Write(singlePath, tensors);
        var shardDir = System.IO.Path.Combine(folder.Path, "sharded");
        var shards = SafetensorsWriter.WriteSharded(shardDir, tensors, maxShardBytes: 300, new Dictionary<string, string> { ["format"] = "pt" });

        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"], shards);
        Assert.True(File.Exists(System.IO.Path.Combine(shardDir, SafetensorsWriter.IndexFileName)));

        using var single = SafetensorsCheckpoint.Open(singlePath);
        using var sharded = SafetensorsCheckpoint.Open(shardDir);
        // "a" (512 bytes) exceeds the limit and gets a shard of its own; "b"+"c" fit together; "d" would not.
        Assert.Equal(3, sharded.Files.Count);
        Assert.Equal(single.Names.Order(), sharded.Names.Order());
        Assert.Equal(((long)(16 * 8 + 4 * 4 * 4) * 4 + 32 * 2 + 16).ToString(), sharded.Metadata["total_size"]);
        Assert.Equal("pt", sharded.Metadata["format"]);
        foreach (var name in single.Names)
        {
            Assert.Equal(single.Info(name).DType, sharded.Info(name).DType);
            using var x = single.Load(name);
            using var y = sharded.Load(name);
            Assert.True(Same(x, y), name);
        }
    }

    [Fact]
    public void CheckpointOpensFolderWithSingleModelFile()
    {
        using var folder = new TempFolder();
        using var t = tensor(new long[] { 9, 8 });
        SafetensorsWriter.Write(folder.File("model.safetensors"), [("ids", t)]);

        using var checkpoint = SafetensorsCheckpoint.Open(folder.Path);
        using var loaded = checkpoint.Load("ids");
        Assert.Equal(new long[] { 9, 8 }, loaded.data<long>().ToArray());
        Assert.Equal(folder.File("model.safetensors"), checkpoint.Description);
    }
}
