using static TorchSharp.torch;

namespace GrokLens.Loading;

/// <summary>Builds a stacked [E, out, in] expert weight from checkpoints that store one tensor per expert.</summary>
internal static class ExpertStack
{
    public static Tensor Build(long[] shape, int numExperts, Device device, Func<int, Tensor> loadExpert)
    {
        var stacked = empty(shape, dtype: ScalarType.Float32, device: device);
        try
        {
            using var noGrad = no_grad();
            for (int expert = 0; expert < numExperts; expert++)
            {
                using var one = loadExpert(expert);
                using var slot = stacked[expert];
                slot.copy_(one);
            }
            return stacked;
        }
        catch
        {
            stacked.Dispose();
            throw;
        }
    }
}
