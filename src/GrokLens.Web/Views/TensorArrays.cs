using static TorchSharp.torch;

namespace GrokLens.Web.Views;

/// <summary>Copies CPU tensors into jagged float arrays (row-major), the shape the views index.</summary>
public static class TensorArrays
{
    public static float[][] ToRows(Tensor t) => Split(Floats(t), (int)t.shape[0]);

    public static float[][][] To3(Tensor t) =>
        Split(Floats(t), (int)t.shape[0]).Select(block => Split(block, (int)t.shape[1])).ToArray();

    public static float[][][][] To4(Tensor t) =>
        Split(Floats(t), (int)t.shape[0])
            .Select(a => Split(a, (int)t.shape[1]).Select(b => Split(b, (int)t.shape[2])).ToArray()).ToArray();

    public static int[][] ToIntRows(Tensor t)
    {
        using var ints = t.to_type(ScalarType.Int32);
        var all = ints.data<int>().ToArray();
        int rows = (int)t.shape[0], width = all.Length / Math.Max(rows, 1);
        return Enumerable.Range(0, rows).Select(r => all.AsSpan(r * width, width).ToArray()).ToArray();
    }

    private static float[] Floats(Tensor t)
    {
        using var f = t.to_type(ScalarType.Float32).contiguous();
        return f.data<float>().ToArray();
    }

    private static float[][] Split(float[] values, int parts)
    {
        int width = values.Length / Math.Max(parts, 1);
        return Enumerable.Range(0, parts).Select(p => values.AsSpan(p * width, width).ToArray()).ToArray();
    }
}
