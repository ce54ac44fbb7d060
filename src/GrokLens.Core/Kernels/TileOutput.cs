using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GrokLens.Kernels;

/// <summary>Writes a tile's accumulators (row r, token t) to y[t, r]: each lane-sum is set, or added for a later panel.</summary>
internal static unsafe class TileOutput
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Put(float* target, float value, bool accumulate) => *target = accumulate ? *target + value : value;

    /// <summary>Accumulators a{row}{token} of a 512-bit tile of up to 4 rows × 4 tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TR, TN>(float* y, long yStride, bool accumulate,
        Vector512<float> a00, Vector512<float> a01, Vector512<float> a02, Vector512<float> a03,
        Vector512<float> a10, Vector512<float> a11, Vector512<float> a12, Vector512<float> a13,
        Vector512<float> a20, Vector512<float> a21, Vector512<float> a22, Vector512<float> a23,
        Vector512<float> a30, Vector512<float> a31, Vector512<float> a32, Vector512<float> a33)
        where TR : struct, ITileCount where TN : struct, ITileCount
    {
        Row<TN>(y, yStride, accumulate, a00, a01, a02, a03);
        if (TR.Value > 1)
        {
            Row<TN>(y + 1, yStride, accumulate, a10, a11, a12, a13);
            Row<TN>(y + 2, yStride, accumulate, a20, a21, a22, a23);
            Row<TN>(y + 3, yStride, accumulate, a30, a31, a32, a33);
        }
    }

    /// <summary>Accumulators a{row}{token} of a 256-bit tile of up to 4 rows × 2 tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TR, TN>(float* y, long yStride, bool accumulate,
        Vector256<float> a00, Vector256<float> a01, Vector256<float> a10, Vector256<float> a11,
        Vector256<float> a20, Vector256<float> a21, Vector256<float> a30, Vector256<float> a31)
        where TR : struct, ITileCount where TN : struct, ITileCount
    {
        Put(y, Vector256.Sum(a00), accumulate);
        if (TN.Value > 1) Put(y + yStride, Vector256.Sum(a01), accumulate);
        if (TR.Value > 1)
        {
            Put(y + 1, Vector256.Sum(a10), accumulate);
            Put(y + 2, Vector256.Sum(a20), accumulate);
            Put(y + 3, Vector256.Sum(a30), accumulate);
            if (TN.Value > 1)
            {
                Put(y + yStride + 1, Vector256.Sum(a11), accumulate);
                Put(y + yStride + 2, Vector256.Sum(a21), accumulate);
                Put(y + yStride + 3, Vector256.Sum(a31), accumulate);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<TN>(float* y, long yStride, bool accumulate, Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3)
        where TN : struct, ITileCount
    {
        Put(y, Vector512.Sum(t0), accumulate);
        if (TN.Value > 1) Put(y + yStride, Vector512.Sum(t1), accumulate);
        if (TN.Value > 2) Put(y + 2 * yStride, Vector512.Sum(t2), accumulate);
        if (TN.Value > 3) Put(y + 3 * yStride, Vector512.Sum(t3), accumulate);
    }
}
