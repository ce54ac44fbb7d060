using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using TorchSharp;

namespace GrokLens.Checkpoints;

/// <summary>
/// One .safetensors file, memory-mapped and validated at <see cref="Open"/>. Tensors are read lazily: loading
/// one copies only its bytes from the mapping into a new tensor, so multi-GB shards cost no memory up front.
/// </summary>
public sealed unsafe class SafetensorsFile : ITensorSource
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly SafetensorsHeader _header;
    private byte* _dataStart;

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* dataStart, SafetensorsHeader header)
    {
        Description = path;
        _map = map;
        _view = view;
        _dataStart = dataStart;
        _header = header;
    }

    public string Description { get; }

    public IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    public IReadOnlyCollection<string> Names => (IReadOnlyCollection<string>)_header.Tensors.Keys;

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="CheckpointFormatException"/> if it is malformed.</summary>
    public static SafetensorsFile Open(string path)
    {
        path = Path.GetFullPath(path);
        // FileShare.Delete lets a writer atomically replace the file while it is open (the mapping keeps the old data).
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        var fileLength = stream.Length;
        if (fileLength < 8)
        {
            stream.Dispose();
            throw new CheckpointFormatException(path, null,
                $"the file is {fileLength} bytes long, too short for the 8-byte header length of a safetensors file");
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        var pointerAcquired = false;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* basePointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
            pointerAcquired = true;
            basePointer += view.PointerOffset;

            // Compare as unsigned before any arithmetic so a hostile length such as 2^63 cannot overflow or allocate.
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(basePointer, 8));
            var available = (ulong)(fileLength - 8);
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

            var json = new ReadOnlySpan<byte>(basePointer + 8, (int)headerLength).ToArray();
            var dataLength = fileLength - 8 - (long)headerLength;
            var header = SafetensorsHeader.Parse(path, json, dataLength);
            return new SafetensorsFile(path, map, view, basePointer + 8 + (long)headerLength, header);
        }
        catch
        {
            if (pointerAcquired)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }
            view?.Dispose();
            if (map is not null)
            {
                map.Dispose();
            }
            else
            {
                stream.Dispose();
            }
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
        ObjectDisposedException.ThrowIf(_dataStart == null, this);

        // Allocate the stored dtype flat, fill it straight from the mapping, then give it its shape.
        using var flat = torch.empty(info.ElementCount, dtype: info.DType.ToScalarType());
        TensorBytes.CopyInto(flat, _dataStart + info.Begin, info.ByteLength, chunkBytes);
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

    public void Dispose()
    {
        if (_dataStart == null)
        {
            return;
        }
        _dataStart = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
