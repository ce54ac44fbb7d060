namespace GrokLens.Kernels;

/// <summary>bfloat16 rounding of float32 values (round to nearest, ties to even), as JAX's astype(bfloat16).</summary>
public static class BFloat16Rounding
{
    /// <summary>The nearest bfloat16 to <paramref name="value"/>, as a float32. NaN stays NaN.</summary>
    public static float Round(float value)
    {
        if (float.IsNaN(value)) return value;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        bits = (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u;
        return BitConverter.UInt32BitsToSingle(bits);
    }

    /// <summary>A bfloat16 bit pattern widened to float32 (exact).</summary>
    public static float FromBits(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>The bfloat16 bit pattern nearest to <paramref name="value"/>.</summary>
    public static ushort ToBits(float value) => (ushort)(BitConverter.SingleToUInt32Bits(Round(value)) >> 16);
}
