using GrokLens.Kernels;
using GrokLens.Model;

namespace GrokLens.Tests.Kernels;

/// <summary>The experts' gelu(gate) ⊙ up on every instruction set against float64, from tiny to saturating inputs.</summary>
public unsafe class VectorGeluTests
{
    public static TheoryData<KernelPath, int> PathsAndLengths()
    {
        var data = new TheoryData<KernelPath, int>();
        foreach (var path in KernelPaths.Supported)
            foreach (var length in new[] { 1, 7, 16, 17, 1000 }) data.Add(path, length);
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndLengths))]
    public void MatchesFloat64(KernelPath path, int length)
    {
        using var scope = NewDisposeScope();
        // Unit-scale values, then large ones where tanh saturates and e^{2u} overflows or vanishes.
        var gate = length > 16 ? cat([tensor(new[] { 60f, -60f, 1e-6f }), randn(length - 3) * 3]) : randn(length) * 3;
        var up = randn(length);
        var result = gate.clone();
        fixed (byte* gp = result.bytes, up8 = up.bytes) VectorGelu.GeluTimes((float*)gp, (float*)up8, length, path);
        var g = gate.to_type(ScalarType.Float64);
        var expected = 0.5 * g * (1 + (Math.Sqrt(2 / Math.PI) * (g + 0.044715 * g.pow(3))).tanh()) * up.to_type(ScalarType.Float64);
        var distance = (result.to_type(ScalarType.Float64) - expected).abs();
        var allowed = 2e-6 * (expected.abs() + up.to_type(ScalarType.Float64).abs() + 1e-3);
        Assert.True((distance <= allowed).all().item<bool>(), $"{path}, {length}: {distance.max().item<double>():E2} from float64");
    }

    [Theory]
    [MemberData(nameof(PathsAndLengths))]
    public void AValueDoesNotDependOnWhereItsSpanStarts(KernelPath path, int length)
    {
        using var scope = NewDisposeScope();
        var gate = randn(length);
        var up = randn(length);
        var whole = gate.clone();
        var pieces = gate.clone();
        int split = length / 3;
        fixed (byte* wp = whole.bytes, pp = pieces.bytes, up8 = up.bytes)
        {
            VectorGelu.GeluTimes((float*)wp, (float*)up8, length, path);
            VectorGelu.GeluTimes((float*)pp, (float*)up8, split, path);
            VectorGelu.GeluTimes((float*)pp + split, (float*)up8 + split, length - split, path);
        }
        Assert.True(whole.equal(pieces).all().item<bool>(), $"{path}, {length} split at {split}");
    }

    [Fact]
    public void TheTensorFormMatchesTorchsGelu()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var gate = randn(5, 33) * 2;
        var up = randn(5, 33);
        var ours = Gelu.TanhTimes(gate, up);
        var torchs = Gelu.Tanh(gate) * up;
        Assert.True((ours - torchs).abs().max().item<float>() < 1e-5f);
    }
}
