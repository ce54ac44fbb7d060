using System.Buffers.Binary;

namespace GrokLens.Tools;

/// <summary>
/// A fast deterministic generator (xoshiro256**, seeded through SplitMix64) for synthetic weights: gigabytes of
/// random int8 are written at disk speed. <see cref="Stream"/> gives independent generators for numbered parts (one
/// per tensor, per chunk), so the bytes of a tensor do not depend on what was generated before it.
/// </summary>
public struct SyntheticRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public SyntheticRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>The generator for part <paramref name="part"/> of the stream <paramref name="seed"/>.</summary>
    public static SyntheticRandom Stream(long seed, long part)
    {
        ulong x = (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)part;
        return new SyntheticRandom(SplitMix(ref x) ^ (ulong)part * 0xD1B54A32D192ED03UL);
    }

    public ulong NextUInt64()
    {
        ulong result = BitRotate(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitRotate(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Standard normal (Box–Muller).</summary>
    public float NextGaussian()
    {
        double u1 = ((NextUInt64() >> 11) + 1) * (1.0 / (1UL << 53));
        double u2 = (NextUInt64() >> 11) * (1.0 / (1UL << 53));
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>Fills <paramref name="bytes"/> with uniform random bytes, eight at a time.</summary>
    public void NextBytes(Span<byte> bytes)
    {
        int i = 0;
        for (; i + 8 <= bytes.Length; i += 8) BinaryPrimitives.WriteUInt64LittleEndian(bytes[i..], NextUInt64());
        if (i < bytes.Length)
        {
            Span<byte> last = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(last, NextUInt64());
            last[..(bytes.Length - i)].CopyTo(bytes[i..]);
        }
    }

    private static ulong BitRotate(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
