namespace GrokLens.Checkpoints.Gguf;

/// <summary>
/// One tensor of a GGUF file. <see cref="Dimensions"/> is ggml's <c>ne</c>, innermost first; <see cref="Shape"/> is the
/// same memory layout in PyTorch order (reversed). <see cref="Offset"/> is relative to the start of the data section.
/// </summary>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Dimensions, long Offset)
{
    public long[] Shape => Dimensions.Reverse().ToArray();

    public long ElementCount => Dimensions.Aggregate(1L, (count, dim) => checked(count * dim));

    public long ByteLength => checked(ElementCount / Type.BlockElements() * Type.BlockBytes());
}
