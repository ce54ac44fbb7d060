using System.Runtime.Intrinsics.X86;

namespace GrokLens.Kernels;

/// <summary>Which instruction set an int8 kernel uses. Every path computes the same weights; only summation order differs.</summary>
public enum KernelPath
{
    /// <summary>Plain C# loops, for any CPU.</summary>
    Scalar,

    /// <summary>AVX2 + FMA, 8 floats per register.</summary>
    Vector256,

    /// <summary>AVX-512 F + BW, 16 floats per register.</summary>
    Vector512,
}

public static class KernelPaths
{
    /// <summary>The widest path this CPU runs.</summary>
    public static KernelPath Best { get; } =
        IsSupported(KernelPath.Vector512) ? KernelPath.Vector512
        : IsSupported(KernelPath.Vector256) ? KernelPath.Vector256
        : KernelPath.Scalar;

    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Scalar => true,
        KernelPath.Vector256 => Avx2.IsSupported && Fma.IsSupported,
        KernelPath.Vector512 => Avx512F.IsSupported && Avx512BW.IsSupported,
        _ => false,
    };

    /// <summary>The paths this CPU runs, narrowest first.</summary>
    public static IReadOnlyList<KernelPath> Supported { get; } =
        Enum.GetValues<KernelPath>().Where(IsSupported).ToArray();
}
