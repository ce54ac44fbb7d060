using System.Buffers.Binary;
using GrokLens.Checkpoints;
using GrokLens.Checkpoints.Gguf;

namespace GrokLens.Tests.Checkpoints.Gguf;

/// <summary>Corrupted GGUF files give a <see cref="CheckpointFormatException"/> naming the file (and tensor) and the problem.</summary>
public class GgufMalformedTests
{
    private static byte[] FixtureBytes() => File.ReadAllBytes(Path.Combine(TestModels.FixtureDirectory, "model.gguf"));

    private static string OpenFails(byte[] bytes)
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "bad.gguf");
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<CheckpointFormatException>(() => GgufFile.Open(path).Dispose());
        Assert.Contains(path, ex.Message);
        return ex.Message;
    }

    /// <summary>Offset of the first tensor entry's type field in the fixture (after its name, dim count and 2 dims).</summary>
    private static int FirstTensorTypeOffset(byte[] bytes)
    {
        int index = IndexOf(bytes, "token_embd.weight"u8.ToArray());
        return index + "token_embd.weight".Length + 4 + 2 * 8;
    }

    [Fact]
    public void WrongMagic()
    {
        var bytes = FixtureBytes();
        bytes[0] = (byte)'X';
        Assert.Contains("not a GGUF file", OpenFails(bytes));
    }

    [Fact]
    public void UnsupportedVersion()
    {
        var bytes = FixtureBytes();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 1);
        Assert.Contains("GGUF version 1 is not supported", OpenFails(bytes));
    }

    [Fact]
    public void HugeCountsAreRefusedBeforeAllocating()
    {
        var bytes = FixtureBytes();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), ulong.MaxValue / 2);
        Assert.Contains("the tensor count is", OpenFails(bytes));
    }

    [Fact]
    public void TruncatedData()
    {
        var bytes = FixtureBytes();
        var message = OpenFails(bytes[..^1000]);
        Assert.Contains("beyond the end of the file", message);
        Assert.Contains("blk.1.", message);
    }

    [Fact]
    public void TruncatedHeader() => Assert.Contains("ends abruptly", OpenFails(FixtureBytes()[..5000]));

    [Fact]
    public void UnsupportedTensorTypeIsNamed()
    {
        var bytes = FixtureBytes();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(FirstTensorTypeOffset(bytes)), 12); // Q4_K
        var message = OpenFails(bytes);
        Assert.Contains("token_embd.weight", message);
        Assert.Contains("Q4_K is not supported", message);
    }

    [Fact]
    public void InnermostDimensionMustFillQ8_0Blocks()
    {
        var bytes = FixtureBytes();
        // The embedding is {64, 512}: as Q8_0 that is fine; make the innermost dim 48 (not a multiple of 32).
        int typeOffset = FirstTensorTypeOffset(bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(typeOffset - 16), 48);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(typeOffset), (uint)GgmlType.Q8_0);
        Assert.Contains("not a multiple of the Q8_0 block size 32", OpenFails(bytes));
    }

    [Fact]
    public void MisalignedOffset()
    {
        var bytes = FixtureBytes();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(FirstTensorTypeOffset(bytes) + 4), 4);
        Assert.Contains("not a multiple of the alignment 32", OpenFails(bytes));
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("marker not found");
    }
}
