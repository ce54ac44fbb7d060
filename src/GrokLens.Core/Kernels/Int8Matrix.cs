using GrokLens.Checkpoints.Gguf;

namespace GrokLens.Kernels;

/// <summary>
/// An int8 weight matrix W [<see cref="Rows"/> outputs, <see cref="Columns"/> inputs] left where it lies: in a mapped
/// GGUF file (<see cref="Int8Format.Q8_0"/>) or a mapped repack cache (<see cref="Int8Format.RowScaled"/>). Nothing is
/// copied; the memory must stay mapped while the matrix is used (<see cref="Owner"/> is kept only so the garbage
/// collector does not finalise the mapping early). A stacked [E, out, in] weight is one matrix of E·out rows;
/// <see cref="RowRange"/> cuts out one expert.
/// </summary>
public readonly unsafe struct Int8Matrix
{
    private Int8Matrix(Int8Format format, long rows, long columns, byte* values, float* scales, int scaleBlocks, bool roundToBFloat16,
        bool scalesFitSplitting, object? owner)
    {
        ScalesFitSplitting = scalesFitSplitting;
        Format = format;
        Rows = rows;
        Columns = columns;
        Values = values;
        Scales = scales;
        ScaleBlocks = scaleBlocks;
        RoundToBFloat16 = roundToBFloat16;
        Owner = owner;
    }

    public Int8Format Format { get; }

    /// <summary>Outputs (PyTorch's out dimension).</summary>
    public long Rows { get; }

    /// <summary>Inputs (PyTorch's in dimension).</summary>
    public long Columns { get; }

    /// <summary>Q8_0: the first block of row 0. RowScaled: the int8 value of row 0, column 0.</summary>
    public byte* Values { get; }

    /// <summary>RowScaled: float32 scales [Rows, ScaleBlocks]; null for Q8_0 (its scales sit in the blocks).</summary>
    public float* Scales { get; }

    /// <summary>RowScaled: scales per row (1 or 8 in Grok-1); Q8_0: columns/32.</summary>
    public int ScaleBlocks { get; }

    /// <summary>RowScaled: W = bf16(q·s), as xAI's JAX code computes it (SPEC §4.3).</summary>
    public bool RoundToBFloat16 { get; }

    /// <summary>
    /// RowScaled: every |scale| is below 2¹⁰⁰, so bf16(q·s) can be formed by splitting (a multiply and an FMA); otherwise the
    /// kernels round the bits in integer registers. Checked once when the matrix is made.
    /// </summary>
    public bool ScalesFitSplitting { get; }

    public object? Owner { get; }

    /// <summary>Inputs sharing one scale.</summary>
    public long BlockLength => Columns / ScaleBlocks;

    /// <summary>Bytes of one row of values (Q8_0: with its scales).</summary>
    public long RowBytes => Format == Int8Format.Q8_0 ? Columns / GgmlTypes.Q8_0BlockElements * GgmlTypes.Q8_0BlockBytes : Columns;

    /// <summary>Bytes a product reads once: values and scales.</summary>
    public long ByteSize => Rows * RowBytes + (Format == Int8Format.RowScaled ? Rows * ScaleBlocks * sizeof(float) : 0);

    /// <summary>A Q8_0 matrix whose blocks start at <paramref name="blocks"/> (e.g. a mapped GGUF tensor's data).</summary>
    public static Int8Matrix Q8_0(byte* blocks, long rows, long columns, object? owner = null)
    {
        if (blocks == null) throw new ArgumentNullException(nameof(blocks));
        if (rows <= 0 || columns <= 0 || columns % GgmlTypes.Q8_0BlockElements != 0)
            throw new ArgumentException($"A Q8_0 matrix needs positive sizes and a multiple of {GgmlTypes.Q8_0BlockElements} columns, got [{rows}, {columns}].");
        return new Int8Matrix(Int8Format.Q8_0, rows, columns, blocks, null, checked((int)(columns / GgmlTypes.Q8_0BlockElements)), false, false, owner);
    }

    /// <summary>Row-major int8 values with <paramref name="scaleBlocks"/> float32 scales per row.</summary>
    public static Int8Matrix RowScaled(sbyte* values, float* scales, long rows, long columns, int scaleBlocks, bool roundToBFloat16, object? owner = null)
    {
        if (values == null) throw new ArgumentNullException(nameof(values));
        if (scales == null) throw new ArgumentNullException(nameof(scales));
        if (rows <= 0 || columns <= 0 || scaleBlocks <= 0 || columns % scaleBlocks != 0)
            throw new ArgumentException($"A row-scaled matrix needs positive sizes and {scaleBlocks} scale blocks dividing {columns} columns, got [{rows}, {columns}].");
        bool fit = true;
        for (long i = 0; i < rows * scaleBlocks && fit; i++) fit = Math.Abs(scales[i]) < SplitBFloat16Scale.Limit;
        return new Int8Matrix(Int8Format.RowScaled, rows, columns, (byte*)values, scales, scaleBlocks, roundToBFloat16, fit, owner);
    }

    /// <summary>Rows [start, start + count): e.g. expert e of a stacked weight is RowRange(e·out, out).</summary>
    public Int8Matrix RowRange(long start, long count)
    {
        if (start < 0 || count <= 0 || start + count > Rows)
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows {start}+{count} are outside the matrix's {Rows}.");
        var scales = Scales == null ? null : Scales + start * ScaleBlocks;
        return new Int8Matrix(Format, count, Columns, Values + start * RowBytes, scales, ScaleBlocks, RoundToBFloat16, ScalesFitSplitting, Owner);
    }

    public override string ToString() =>
        $"{Format} [{Rows}, {Columns}]" + (Format == Int8Format.RowScaled ? $", {ScaleBlocks} scale(s) per row{(RoundToBFloat16 ? ", bf16(q·s)" : "")}" : "");
}
