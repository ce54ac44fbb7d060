using GrokLens.Model;
using TorchSharp;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Weight-only int8: every layer's matrices are kept as the checkpoint stores them, int8 with scales (matrices it stores
/// as floats become float32). On the CPU they stay in the mapped file (GGUF Q8_0 in place, xAI's int8 from its repack
/// cache) and the int8 kernels multiply them there; on a GPU they are copied there and dequantised one matrix, or one
/// chosen expert, at a time. Owns the checkpoint's files, which the mapped matrices point into.
/// </summary>
internal sealed class Int8LayerMatrices : ILayerMatrixSource
{
    private readonly MatrixSet set = new();
    private readonly IDisposable files;

    public Int8LayerMatrices(IWeightSource source, IEnumerable<(WeightId Id, long[] Shape)> matrices, DeviceMap map, Action<WeightId> onRead,
        IDisposable files)
    {
        this.files = files;
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

    public string Description => set.MappedCount == set.Int8Count
        ? $"int8 weights ({set.Int8Count} int8 matrices, {DeviceMap.Format(set.MappedBytes)} mapped from the file, int8 kernels)"
        : $"int8 weights ({DeviceMap.Format(set.Bytes + set.MappedBytes)}, {set.Int8Count} int8 matrices: {set.MappedCount} mapped for the int8 kernels, " +
          $"the others dequantised one at a time)";

    public IReadOnlyDictionary<string, long> BytesByDevice => set.BytesByDevice;

    public LayerMatrices Acquire(int layer) => set.Layer(layer);

    public void Dispose()
    {
        set.Dispose();
        files.Dispose();
    }
}
