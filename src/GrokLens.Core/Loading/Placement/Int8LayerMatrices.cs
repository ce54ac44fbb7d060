using GrokLens.Model;
using TorchSharp;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Weight-only int8: every layer's matrices are read once at load and kept as the checkpoint stores them, int8 with
/// scales (matrices it stores as floats become float32). Products dequantise one matrix, or one chosen expert, at a time.
/// </summary>
internal sealed class Int8LayerMatrices : ILayerMatrixSource
{
    private readonly MatrixSet set = new();

    public Int8LayerMatrices(IWeightSource source, IEnumerable<(WeightId Id, long[] Shape)> matrices, DeviceMap map, Action<WeightId> onRead)
    {
        try
        {
            foreach (var (id, shape) in matrices)
            {
                set.Read(source, id, shape, torch.device(map.DeviceOf(id.Layer)), keepInt8: true);
                onRead(id);
            }
        }
        catch
        {
            set.Dispose();
            throw;
        }
        if (set.Int8Count == 0)
        {
            set.Dispose();
            throw new ArgumentException("int8 weights need a checkpoint that stores int8 matrices (GGUF Q8_0 or xAI's raw release).");
        }
    }

    public string Description => $"int8 weights ({DeviceMap.Format(set.Bytes)}, {set.Int8Count} int8 matrices, experts dequantised one at a time)";

    public IReadOnlyDictionary<string, long> BytesByDevice => set.BytesByDevice;

    public LayerMatrices Acquire(int layer) => set.Layer(layer);

    public void Dispose() => set.Dispose();
}
