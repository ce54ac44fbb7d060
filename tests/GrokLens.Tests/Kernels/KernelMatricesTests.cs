using GrokLens.Kernels;
using GrokLens.Loading.Quantization;
using static TorchSharp.torch;

namespace GrokLens.Tests.Kernels;

/// <summary>The engine's int8 matrices over the kernels: the forward pass's products and the weights hooks ask for.</summary>
public class KernelMatricesTests
{
    private static TestInt8Matrix[] Matrices() =>
    [
        TestInt8Matrix.Q8_0(37, 64, 1),
        TestInt8Matrix.RowScaled(37, 64, 2, roundToBFloat16: true, 2),
        TestInt8Matrix.RowScaled(37, 96, 3, roundToBFloat16: false, 3),
    ];

    [Fact]
    public void ToFloat32IsExactlyTheReferenceDequantisation()
    {
        foreach (var matrix in Matrices())
            using (matrix)
            {
                using var weights = new KernelMatrix(matrix.Matrix).ToFloat32();
                Assert.True(weights.equal(matrix.Dequantized).all().item<bool>(), $"{matrix.Matrix}: differs from the reference dequantisation");
            }
    }

    [Fact]
    public void ProductsOfAnyLayoutOfXAreCloseToDequantiseThenMatmul()
    {
        foreach (var matrix in Matrices())
            using (matrix)
            {
                var kernel = new KernelMatrix(matrix.Matrix);
                using var scope = NewDisposeScope();
                var x = randn(2, 5, matrix.Matrix.Columns, generator: new TorchSharp.torch.Generator(7));
                var strided = randn(matrix.Matrix.Columns, 10).t().view(2, 5, matrix.Matrix.Columns); // not contiguous
                foreach (var input in new[] { x, strided })
                {
                    var expected = nn.functional.linear(input, matrix.Dequantized);
                    KernelTolerance.AssertClose(expected, kernel.Multiply(input), matrix.Matrix.ToString());
                }
                Assert.Equal(new long[] { 0, matrix.Matrix.Rows }, kernel.Multiply(empty(0, matrix.Matrix.Columns)).shape);
            }
    }

    [Fact]
    public void ExpertsAreRowRangesOfTheStackedMatrix()
    {
        using var stacked = TestInt8Matrix.Q8_0(3 * 16, 64, 4);
        var experts = new KernelExperts(KernelWeight.SplitExperts(stacked.Matrix, 3));
        Assert.Equal((3, 16L, 64L), (experts.Count, experts.Rows, experts.Columns));
        using var scope = NewDisposeScope();
        var rows = randn(4, 64, generator: new TorchSharp.torch.Generator(8));
        for (int e = 0; e < 3; e++)
        {
            var expected = stacked.Dequantized.narrow(0, 16 * e, 16);
            Assert.True(experts.ToFloat32(e).equal(expected).all().item<bool>(), $"expert {e}");
            KernelTolerance.AssertClose(nn.functional.linear(rows, expected), experts.Multiply(e, rows), $"expert {e}");
        }
    }
}
