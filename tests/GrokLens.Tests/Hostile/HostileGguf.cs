using System.Text;
using GrokLens.Checkpoints.Gguf;

namespace GrokLens.Tests.Hostile;

/// <summary>Writes GGUF v3 files byte by byte, so a test can state exactly which header fields lie.</summary>
internal sealed class HostileGguf
{
    private readonly List<(string Key, Action<BinaryWriter> Value)> metadata = [];
    private readonly List<(string Name, ulong[] Dims, GgmlType Type, ulong Offset)> tensors = [];

    public HostileGguf String(string key, string value) => Add(key, w => { w.Write(8u); WriteString(w, value); });

    public HostileGguf UInt32(string key, uint value) => Add(key, w => { w.Write(4u); w.Write(value); });

    /// <summary>An array of <paramref name="count"/> UInt8 elements whose bytes (zeros) follow the header.</summary>
    public HostileGguf UInt8Array(string key, ulong count) => Add(key, w =>
    {
        w.Write(9u);
        w.Write(0u); // element type UInt8
        w.Write(count);
        w.Flush();
        w.BaseStream.SetLength(w.BaseStream.Length + (long)count); // sparse zeros, nothing to write
        w.BaseStream.Seek(0, SeekOrigin.End);
    });

    public HostileGguf Tensor(string name, GgmlType type, ulong offset, params ulong[] dims)
    {
        tensors.Add((name, dims, type, offset));
        return this;
    }

    /// <summary>Writes the file with <paramref name="dataBytes"/> zero bytes of tensor data after the aligned header.</summary>
    public string Write(string path, long dataBytes = 0)
    {
        using (var stream = File.Create(path))
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(GgufFile.Magic);
            writer.Write(3u);
            writer.Write((ulong)tensors.Count);
            writer.Write((ulong)metadata.Count);
            foreach (var (key, value) in metadata)
            {
                WriteString(writer, key);
                value(writer);
            }
            foreach (var (name, dims, type, offset) in tensors)
            {
                WriteString(writer, name);
                writer.Write((uint)dims.Length);
                foreach (var dim in dims) writer.Write(dim);
                writer.Write((uint)type);
                writer.Write(offset);
            }
            writer.Flush();
            var aligned = (stream.Length + GgufFile.DefaultAlignment - 1) / GgufFile.DefaultAlignment * GgufFile.DefaultAlignment;
            stream.SetLength(aligned + dataBytes);
        }
        return path;
    }

    private HostileGguf Add(string key, Action<BinaryWriter> value)
    {
        metadata.Add((key, value));
        return this;
    }

    private static void WriteString(BinaryWriter writer, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }
}
