using static TorchSharp.torch;

namespace GrokLens.Kernels;

/// <summary>
/// An int8 matrix written out as float32 [rows, columns]: the same weights the kernels form in registers (Q8_0: q·d;
/// xAI: bf16(q·s) or q·s), for the few uses that need W itself, such as per-head results through W_o.
/// </summary>
public static unsafe class Int8Dequantizer
{
    public static Tensor ToFloat32(in Int8Matrix w)
    {
        var result = empty([w.Rows, w.Columns], dtype: ScalarType.Float32);
        float* output = TensorMemory.Float32(result, nameof(result));
        if (w.Format == Int8Format.Q8_0) Q8_0(w, output);
        else RowScaled(w, output);
        GC.KeepAlive(w.Owner); // the mapping the weight's pointers point into
        return result;
    }

    private static void Q8_0(in Int8Matrix w, float* output)
    {
        const int elements = Checkpoints.Gguf.GgmlTypes.Q8_0BlockElements, bytes = Checkpoints.Gguf.GgmlTypes.Q8_0BlockBytes;
        long blocks = w.Columns / elements;
        for (long r = 0; r < w.Rows; r++)
        {
            byte* block = w.Values + r * w.RowBytes;
            float* row = output + r * w.Columns;
            for (long b = 0; b < blocks; b++, block += bytes, row += elements)
            {
                float d = (float)BitConverter.UInt16BitsToHalf(*(ushort*)block);
                sbyte* q = (sbyte*)(block + 2);
                for (int i = 0; i < elements; i++) row[i] = q[i] * d;
            }
        }
    }

    private static void RowScaled(in Int8Matrix w, float* output)
    {
        long blockLength = w.BlockLength;
        sbyte* values = (sbyte*)w.Values;
        for (long r = 0; r < w.Rows; r++)
        {
            float* scales = w.Scales + r * w.ScaleBlocks;
            for (long i = 0; i < w.Columns; i++)
            {
                float value = values[r * w.Columns + i] * scales[i / blockLength];
                output[r * w.Columns + i] = w.RoundToBFloat16 ? BFloat16Rounding.Round(value) : value;
            }
        }
    }
}
