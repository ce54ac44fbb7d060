using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Cluster.Contracts;

/// <summary>A tensor on the wire: dtype, shape and its bytes (contiguous, little-endian as in memory). At most 2 GB.</summary>
[GenerateSerializer]
public sealed class TensorData
{
    [Id(0)] public int DType { get; init; }
    [Id(1)] public long[] Shape { get; init; } = [];
    [Id(2)] public byte[] Bytes { get; init; } = [];

    public long ByteCount => Bytes.LongLength;

    /// <summary>Copies a tensor (any device) into a message.</summary>
    public static TensorData From(Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        long bytes = cpu.NumberOfElements * cpu.ElementSize;
        if (bytes > Array.MaxLength)
            throw new ArgumentException($"A {bytes / (1L << 20)} MB tensor [{string.Join(", ", cpu.shape)}] is too large for one message (2 GB).");
        return new TensorData { DType = (int)cpu.dtype, Shape = cpu.shape, Bytes = cpu.NumberOfElements == 0 ? [] : cpu.bytes.ToArray() };
    }

    /// <summary>A new CPU tensor holding a copy of the bytes; the caller owns it.</summary>
    public Tensor ToTensor()
    {
        var tensor = empty(Shape, dtype: (ScalarType)DType);
        if (Bytes.Length > 0) Bytes.AsSpan().CopyTo(tensor.bytes);
        return tensor;
    }
}

/// <summary>A captured activation by hook name.</summary>
[GenerateSerializer]
public sealed class NamedTensor
{
    [Id(0)] public string Name { get; init; } = "";
    [Id(1)] public TensorData Tensor { get; init; } = new();
}
