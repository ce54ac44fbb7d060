using GrokLens.Checkpoints;

namespace GrokLens.Kernels.Repack;

/// <summary>
/// A repacked xAI weight mapped from its cache file: <see cref="Matrix"/> [E·out, in] (one expert is
/// <c>Matrix.RowRange(e·out, out)</c>) points into the mapping, valid until this is disposed.
/// </summary>
public sealed unsafe class RepackedMatrix : IDisposable
{
    private readonly MappedFile _file;

    internal RepackedMatrix(MappedFile file, RepackHeader header, string status)
    {
        _file = file;
        Experts = header.Experts;
        Shape = header.Stacked ? [header.Experts, header.Rows, header.Columns] : [header.Rows, header.Columns];
        Status = status;
        Matrix = Int8Matrix.RowScaled((sbyte*)(file.Start + header.ValuesOffset), (float*)(file.Start + header.ScalesOffset),
            header.Experts * header.Rows, header.Columns, header.ScaleBlocks, header.RoundToBFloat16, owner: this);
    }

    public Int8Matrix Matrix { get; }

    /// <summary>Experts stacked in <see cref="Matrix"/> (1 for an attention matrix).</summary>
    public long Experts { get; }

    /// <summary>PyTorch shape: [E, out, in] for stacked experts, or [out, in].</summary>
    public long[] Shape { get; }

    /// <summary>How the cache was used: "reused", "built", or "rebuilt: (why the old one was refused)".</summary>
    public string Status { get; }

    public string CachePath => _file.Path;

    public void Dispose() => _file.Dispose();
}
