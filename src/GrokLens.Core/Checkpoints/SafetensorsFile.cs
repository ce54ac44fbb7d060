using System.Buffers.Binary;
using TorchSharp;

namespace GrokLens.Checkpoints;

/// <summary>
/// One .safetensors file, memory-mapped and validated at <see cref="Open"/>. Tensors are read lazily: loading
/// one copies only its bytes from the mapping into a new tensor, so multi-GB shards cost no memory up front.
/// </summary>
public sealed unsafe class SafetensorsFile : ITensorSource
{
    private readonly MappedFile _file;
    private readonly SafetensorsHeader _header;
    private readonly long _dataOffset;

    private SafetensorsFile(MappedFile file, long dataOffset, SafetensorsHeader header)
    {
        Description = file.Path;
        _file = file;
        _dataOffset = dataOffset;
        _header = header;
    }

    public string Description { get; }

    public IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    public IReadOnlyCollection<string> Names => (IReadOnlyCollection<string>)_header.Tensors.Keys;

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="CheckpointFormatException"/> if it is malformed.</summary>
    public static SafetensorsFile Open(string path)
    {
        // The mapping opens with FileShare.Delete: a writer may atomically replace the file while it is open (the
        // mapping keeps the old data).
        var file = MappedFile.Open(path);
        try
        {
            path = file.Path;
            if (file.Length < 8)
            {
                throw new CheckpointFormatException(path, null,
                    $"the file is {file.Length} bytes long, too short for the 8-byte header length of a safetensors file");
            }

            // Compare as unsigned before any arithmetic so a hostile length such as 2^63 cannot overflow or allocate.
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file.Span(0, 8));
            var available = (ulong)(file.Length - 8);
            if (headerLength > available)
            {
                throw new CheckpointFormatException(path, null,
                    $"the header length field says {headerLength} bytes, but only {available} bytes follow it in the file " +
                    "(the file is truncated or not a safetensors file)");
            }
            if (headerLength > SafetensorsHeader.MaxHeaderBytes)
            {
                throw new CheckpointFormatException(path, null,
                    $"the header length field says {headerLength} bytes, more than the {SafetensorsHeader.MaxHeaderBytes}-byte limit");
            }

            var json = file.Span(8, (int)headerLength).ToArray();
            var dataLength = file.Length - 8 - (long)headerLength;
            var header = SafetensorsHeader.Parse(path, json, dataLength);
            return new SafetensorsFile(file, 8 + (long)headerLength, header);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _header.Tensors.ContainsKey(name);

    public SafetensorsTensorInfo Info(string name) =>
        _header.Tensors.TryGetValue(name, out var info)
            ? info
            : throw new CheckpointFormatException(Description, name, "no such tensor in this file");

    public torch.Tensor Load(string name, torch.Device? device = null) => Load(name, device, TensorBytes.DefaultChunkBytes);

    /// <summary><see cref="Load(string, torch.Device?)"/> with the copy chunk size exposed so tests can exercise chunking.</summary>
    internal torch.Tensor Load(string name, torch.Device? device, long chunkBytes)
    {
        var info = Info(name);

        // Allocate the stored dtype flat, fill it straight from the mapping, then give it its shape.
        using var flat = torch.empty(info.ElementCount, dtype: info.DType.ToScalarType());
        TensorBytes.CopyInto(flat, _file.Start + _dataOffset + info.Begin, info.ByteLength, chunkBytes);   // Start throws once disposed
        var shaped = flat.reshape(info.Shape);
        return MoveTo(shaped, device);
    }

    public torch.Tensor LoadFloat32(string name, torch.Device? device = null)
    {
        var stored = Load(name);
        return MoveTo(ToFloat32(stored), device);
    }

    /// <summary>Converts to float32, disposing the input when a new tensor was made (F16/BF16 widen exactly).</summary>
    internal static torch.Tensor ToFloat32(torch.Tensor tensor)
    {
        if (tensor.dtype == torch.ScalarType.Float32)
        {
            return tensor;
        }
        using (tensor)
        {
            return tensor.to_type(torch.ScalarType.Float32);
        }
    }

    /// <summary>Moves to <paramref name="device"/> (no-op for CPU/null), disposing the CPU copy.</summary>
    internal static torch.Tensor MoveTo(torch.Tensor tensor, torch.Device? device)
    {
        if (device is null || device.type == DeviceType.CPU)
        {
            return tensor;
        }
        using (tensor)
        {
            return tensor.to(device);
        }
    }

    public void Dispose() => _file.Dispose();
}
