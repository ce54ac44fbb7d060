namespace GrokLens.Checkpoints.Gguf;

/// <summary>The ggml tensor types GrokLens reads (numbers as in ggml.h); other types are refused by name.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
    BF16 = 30,
}

/// <summary>Block layout of each type: elements per block and bytes per block along the innermost dimension.</summary>
public static class GgmlTypes
{
    /// <summary>Q8_0 block: an fp16 scale d, then 32 int8 values; value = d·q (ggml's block_q8_0).</summary>
    public const int Q8_0BlockElements = 32;
    public const int Q8_0BlockBytes = 2 + Q8_0BlockElements;

    public static bool IsKnown(uint type) => Enum.IsDefined(typeof(GgmlType), type);

    public static int BlockElements(this GgmlType type) => type == GgmlType.Q8_0 ? Q8_0BlockElements : 1;

    public static int BlockBytes(this GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 or GgmlType.BF16 => 2,
        GgmlType.Q8_0 => Q8_0BlockBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown ggml type"),
    };

    /// <summary>ggml's names of the types it defines, for a helpful message when a file uses one we do not read.</summary>
    public static string NameOf(uint type) => type switch
    {
        0 => "F32", 1 => "F16", 2 => "Q4_0", 3 => "Q4_1", 6 => "Q5_0", 7 => "Q5_1", 8 => "Q8_0", 9 => "Q8_1",
        10 => "Q2_K", 11 => "Q3_K", 12 => "Q4_K", 13 => "Q5_K", 14 => "Q6_K", 15 => "Q8_K", 16 => "IQ2_XXS",
        17 => "IQ2_XS", 18 => "IQ3_XXS", 19 => "IQ1_S", 20 => "IQ4_NL", 21 => "IQ3_S", 22 => "IQ2_S", 23 => "IQ4_XS",
        24 => "I8", 25 => "I16", 26 => "I32", 27 => "I64", 28 => "F64", 29 => "IQ1_M", 30 => "BF16",
        34 => "TQ1_0", 35 => "TQ2_0", 39 => "MXFP4",
        _ => $"type {type}",
    };
}
