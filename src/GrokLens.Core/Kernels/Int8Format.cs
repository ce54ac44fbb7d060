namespace GrokLens.Kernels;

/// <summary>How an int8 weight matrix [rows = outputs, columns = inputs] is laid out in memory.</summary>
public enum Int8Format
{
    /// <summary>
    /// ggml's Q8_0, read in place from a GGUF file: each row is columns/32 blocks of 34 bytes, an fp16 scale d then 32
    /// int8 q; W = d·q in float32.
    /// </summary>
    Q8_0,

    /// <summary>
    /// int8 values row-major [rows, columns] and float32 scales [rows, S]: scale k of a row covers its inputs
    /// [k·columns/S, (k+1)·columns/S). xAI's raw release repacked once (see <see cref="Repack.XaiRepackCache"/>), where
    /// W = bf16(q·s) (<see cref="Int8Matrix.RoundToBFloat16"/>); otherwise W = q·s.
    /// </summary>
    RowScaled,
}
