using System.Text;
using GrokLens.Checkpoints.Gguf;

namespace GrokLens.Tools;

/// <summary>
/// Writes a GGUF v3 file (the format llama.cpp reads, and <see cref="GgufFile"/>): metadata, tensor infos, then each
/// tensor's data aligned, streamed from a callback so a 10 GB file never sits in memory. Shapes are given in PyTorch
/// order and stored innermost first, as ggml's <c>ne</c>.
/// </summary>
public sealed class GgufWriter(int alignment = GgufFile.DefaultAlignment)
{
    // GGUF metadata value types (the numbers of the GGUF specification).
    private const uint UInt32Type = 4, Int32Type = 5, Float32Type = 6, BoolType = 7, StringType = 8, ArrayType = 9;

    private readonly List<(string Key, object Value)> _metadata = [("general.alignment", (uint)alignment)];
    private readonly List<Tensor> _tensors = [];

    /// <summary>A metadata key: string, uint, int, float, bool, or an array of string, float or int.</summary>
    public GgufWriter Add(string key, object value)
    {
        if (value is not (string or uint or int or float or bool or string[] or float[] or int[]))
            throw new ArgumentException($"GGUF metadata '{key}': unsupported value type {value.GetType().Name}.", nameof(value));
        if (_metadata.Any(m => m.Key == key)) throw new ArgumentException($"GGUF metadata key '{key}' is already set.", nameof(key));
        _metadata.Add((key, value));
        return this;
    }

    /// <summary>A tensor whose <paramref name="writeData"/> writes exactly its stored bytes, in any number of writes.</summary>
    public GgufWriter AddTensor(string name, long[] shape, GgmlType type, Action<Stream> writeData)
    {
        if (_tensors.Any(t => t.Info.Name == name)) throw new ArgumentException($"GGUF tensor '{name}' is already added.", nameof(name));
        var info = new GgufTensorInfo(name, type, shape.Reverse().ToArray(), 0);
        if (info.Dimensions[0] % type.BlockElements() != 0)
            throw new ArgumentException($"{name}: the innermost dimension {info.Dimensions[0]} is not a multiple of the {type} block size.");
        _tensors.Add(new Tensor(info, writeData));
        return this;
    }

    /// <summary>Writes the file (to a temporary name, renamed when complete, so a failed write leaves nothing half-written).</summary>
    public void WriteTo(string path, IProgress<long>? bytesWritten = null)
    {
        var temporary = path + ".partial";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                WriteHeader(stream);
                long dataStart = stream.Position;
                long offset = 0;
                foreach (var tensor in _tensors)
                {
                    long start = stream.Position;
                    tensor.WriteData(stream);
                    long written = stream.Position - start;
                    if (written != tensor.Info.ByteLength)
                        throw new InvalidOperationException($"{tensor.Info.Name}: wrote {written} bytes, expected {tensor.Info.ByteLength}.");
                    offset = Align(offset + written);
                    Pad(stream, dataStart + offset);
                    bytesWritten?.Report(stream.Position);
                }
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private void WriteHeader(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(GgufFile.Magic);
        writer.Write(3u);
        writer.Write((ulong)_tensors.Count);
        writer.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(writer, key);
            WriteValue(writer, value);
        }
        long offset = 0;
        foreach (var tensor in _tensors)
        {
            WriteString(writer, tensor.Info.Name);
            writer.Write((uint)tensor.Info.Dimensions.Length);
            foreach (var dim in tensor.Info.Dimensions) writer.Write((ulong)dim);
            writer.Write((uint)tensor.Info.Type);
            writer.Write((ulong)offset);
            offset = Align(offset + tensor.Info.ByteLength);
        }
        writer.Flush();
        Pad(stream, Align(stream.Position));
    }

    private static void WriteValue(BinaryWriter writer, object value)
    {
        switch (value)
        {
            case string text: writer.Write(StringType); WriteString(writer, text); break;
            case uint number: writer.Write(UInt32Type); writer.Write(number); break;
            case int number: writer.Write(Int32Type); writer.Write(number); break;
            case float number: writer.Write(Float32Type); writer.Write(number); break;
            case bool flag: writer.Write(BoolType); writer.Write((byte)(flag ? 1 : 0)); break;
            case string[] texts:
                writer.Write(ArrayType); writer.Write(StringType); writer.Write((ulong)texts.Length);
                foreach (var text in texts) WriteString(writer, text);
                break;
            case float[] numbers:
                writer.Write(ArrayType); writer.Write(Float32Type); writer.Write((ulong)numbers.Length);
                foreach (var number in numbers) writer.Write(number);
                break;
            case int[] numbers:
                writer.Write(ArrayType); writer.Write(Int32Type); writer.Write((ulong)numbers.Length);
                foreach (var number in numbers) writer.Write(number);
                break;
        }
    }

    private static void WriteString(BinaryWriter writer, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private long Align(long value) => (value + alignment - 1) / alignment * alignment;

    private static void Pad(Stream stream, long position)
    {
        while (stream.Position < position) stream.WriteByte(0);
    }

    private sealed record Tensor(GgufTensorInfo Info, Action<Stream> WriteData);
}
