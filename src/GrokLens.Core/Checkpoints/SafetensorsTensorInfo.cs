namespace GrokLens.Checkpoints;

/// <summary>
/// One header entry. <see cref="Begin"/> and <see cref="End"/> are byte offsets relative to the start of the
/// data section (right after the header), as in the file.
/// </summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Product of the shape (1 for a scalar). Validated not to overflow when the header is read.</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var dim in Shape)
            {
                count = checked(count * dim);
            }
            return count;
        }
    }

    /// <summary>Bytes the tensor occupies in the data section.</summary>
    public long ByteLength => End - Begin;
}
