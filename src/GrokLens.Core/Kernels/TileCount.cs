namespace GrokLens.Kernels;

/// <summary>
/// A compile-time count of rows or tokens in a kernel tile. Kernels are generic over it so the JIT compiles one
/// specialised body per count (value-type generic arguments are never shared), with the unused lanes removed.
/// </summary>
internal interface ITileCount
{
    static abstract int Value { get; }
}

internal struct One : ITileCount
{
    public static int Value => 1;
}

internal struct Two : ITileCount
{
    public static int Value => 2;
}

internal struct Three : ITileCount
{
    public static int Value => 3;
}

internal struct Four : ITileCount
{
    public static int Value => 4;
}
