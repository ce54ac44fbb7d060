namespace GrokLens.Checkpoints.Xai;

/// <summary>Element types found in the raw release: float32 arrays, int8 weights and bfloat16 scales.</summary>
public enum XaiDType
{
    Float32,
    Float16,
    BFloat16,
    Int8,
    /// <summary>Unsigned 16-bit: bfloat16 bit patterns saved without ml_dtypes; read as bfloat16 where scales are expected.</summary>
    UInt16,
}

/// <summary>A C-ordered numpy array inside a pickle: dtype, shape and where its bytes lie in the file.</summary>
public sealed record XaiArray(XaiDType DType, long[] Shape, long Offset, long Length)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));

    public static int ElementSize(XaiDType dtype) => dtype switch
    {
        XaiDType.Float32 => 4,
        XaiDType.Int8 => 1,
        _ => 2,
    };
}

/// <summary>One raw tensor file: a plain array, or a QuantizedWeight8bit (int8 weight + bfloat16 scales).</summary>
public sealed record XaiTensor(XaiArray Array, XaiArray? Scales)
{
    public bool IsQuantized => Scales is not null;
}
