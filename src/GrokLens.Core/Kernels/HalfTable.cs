using System.Runtime.InteropServices;

namespace GrokLens.Kernels;

/// <summary>
/// fp16 → float32 for every bit pattern (256 KB, allocated once per process). .NET has no F16C intrinsics and its
/// Half conversion is a branchy software routine; a Q8_0 kernel needs one scale per 32 weights, and a table load plus
/// broadcast is the cheapest exact conversion. A matrix's scales span a few binades, so few table lines stay hot.
/// </summary>
internal static unsafe class HalfTable
{
    public static readonly float* Pointer = Create();

    private static float* Create()
    {
        var table = (float*)NativeMemory.AlignedAlloc(65536 * sizeof(float), 64);
        for (int bits = 0; bits < 65536; bits++) table[bits] = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
        return table;
    }
}
