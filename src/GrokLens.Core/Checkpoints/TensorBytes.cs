using TorchSharp;

namespace GrokLens.Checkpoints;

/// <summary>
/// Moves raw bytes between unmanaged memory / streams and a tensor's native storage. TorchSharp only exposes a
/// tensor's memory as <c>Tensor.bytes</c>, a <see cref="Span{T}"/> that refuses tensors over 2 GB, so large
/// tensors are handled as a flat 1-D tensor cut into contiguous <c>narrow</c> views of at most
/// <paramref name="chunkBytes"/> each; each view's <c>bytes</c> points at its own slice of the storage.
/// </summary>
internal static class TensorBytes
{
    /// <summary>1 GB: well under the span limit, big enough that the per-chunk overhead is negligible.</summary>
    public const long DefaultChunkBytes = 1L << 30;

    /// <summary>Copies <paramref name="byteCount"/> bytes at <paramref name="source"/> into a flat, contiguous CPU tensor.</summary>
    public static unsafe void CopyInto(torch.Tensor flat, byte* source, long byteCount, long chunkBytes = DefaultChunkBytes)
    {
        ForEachChunk(flat, byteCount, chunkBytes, (chunk, offset) =>
        {
            var target = chunk.bytes;
            new ReadOnlySpan<byte>(source + offset, target.Length).CopyTo(target);
        });
    }

    /// <summary>Writes the bytes of a flat, contiguous CPU tensor to <paramref name="stream"/>.</summary>
    public static void CopyTo(torch.Tensor flat, Stream stream, long chunkBytes = DefaultChunkBytes)
    {
        var byteCount = flat.NumberOfElements * flat.ElementSize;
        ForEachChunk(flat, byteCount, chunkBytes, (chunk, _) => stream.Write(chunk.bytes));
    }

    /// <summary>
    /// Address of a contiguous CPU tensor's first byte, valid while the tensor lives. Taken from a one-element view's
    /// <c>bytes</c> span so tensors of any size work (TorchSharp has no data_ptr).
    /// </summary>
    public static unsafe byte* Pointer(torch.Tensor tensor)
    {
        if (!tensor.is_contiguous() || tensor.device_type != DeviceType.CPU || tensor.NumberOfElements == 0)
            throw new ArgumentException("Expected a non-empty contiguous CPU tensor.", nameof(tensor));
        using var flat = tensor.view(-1);
        using var first = flat.narrow(0, 0, 1);
        fixed (byte* pointer = first.bytes) return pointer;
    }

    private static void ForEachChunk(torch.Tensor flat, long byteCount, long chunkBytes, Action<torch.Tensor, long> action)
    {
        if (flat.Dimensions != 1 || !flat.is_contiguous() || flat.device_type != DeviceType.CPU)
        {
            throw new ArgumentException("Expected a flat, contiguous CPU tensor.", nameof(flat));
        }
        var elementSize = flat.ElementSize;
        if (flat.NumberOfElements * elementSize != byteCount)
        {
            throw new ArgumentException($"Tensor holds {flat.NumberOfElements * elementSize} bytes, expected {byteCount}.", nameof(flat));
        }
        var chunkElements = Math.Max(1, Math.Min(chunkBytes, int.MaxValue) / elementSize);
        var total = flat.NumberOfElements;
        for (long start = 0; start < total; start += chunkElements)
        {
            var count = Math.Min(chunkElements, total - start);
            using var chunk = flat.narrow(0, start, count);
            action(chunk, start * elementSize);
        }
    }
}
