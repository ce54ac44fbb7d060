using GrokLens.Checkpoints;
using GrokLens.Loading.Quantization;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Projection matrices read from a checkpoint for int8 residency or streaming, by weight: matrices the checkpoint stores as
/// int8 stay int8 (when asked), the others are float32. Owns what it read; disposing frees it.
/// </summary>
internal sealed class MatrixSet : IDisposable
{
    private readonly Dictionary<WeightId, object> matrices = new();
    private readonly List<IDisposable> owned = new();
    private readonly Dictionary<string, long> bytesByDevice = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, long> BytesByDevice => bytesByDevice;

    public long Bytes => bytesByDevice.Values.Sum();

    /// <summary>How many matrices are held as int8.</summary>
    public int Int8Count { get; private set; }

    /// <summary>Reads one matrix onto <paramref name="device"/>.</summary>
    public void Read(IWeightSource source, WeightId id, long[] shape, Device device, bool keepInt8)
    {
        if (keepInt8 && source is IQuantizedWeightSource quantizedSource && quantizedSource.TryCreateQuantized(id, shape) is { } read)
        {
            var int8 = read.To(device);
            if (!ReferenceEquals(int8, read)) read.Dispose();
            owned.Add(int8);
            Count(int8.Values.device, int8.ByteSize);
            matrices[id] = id.IsExpertStack ? new DequantizingExperts(int8) : new DequantizingMatrix(int8);
            Int8Count++;
            return;
        }
        var floats = source.Create(id, shape).MovedTo(device);
        floats.DetachFromDisposeScope();
        owned.Add(floats);
        Count(floats.device, floats.NumberOfElements * floats.ElementSize);
        matrices[id] = id.IsExpertStack ? new FloatExperts(floats) : new FloatMatrix(floats);
    }

    /// <summary>Layer <paramref name="layer"/>'s matrices; <paramref name="release"/> runs when the result is disposed.</summary>
    public LayerMatrices Layer(int layer, IDisposable? release = null)
    {
        IMatrix Matrix(WeightKind kind) => (IMatrix)matrices[new WeightId(kind, layer)];
        IExpertMatrices Experts(WeightKind kind) => (IExpertMatrices)matrices[new WeightId(kind, layer)];
        var mlp = matrices.ContainsKey(new WeightId(WeightKind.DenseGate, layer))
            ? new MlpMatrices(Matrix(WeightKind.DenseGate), Matrix(WeightKind.DenseUp), Matrix(WeightKind.DenseDown))
            : null;
        return new LayerMatrices(
            new AttentionMatrices(Matrix(WeightKind.Query), Matrix(WeightKind.Key), Matrix(WeightKind.Value), Matrix(WeightKind.AttentionOutput)),
            new ExpertMatrices(Experts(WeightKind.ExpertGate), Experts(WeightKind.ExpertUp), Experts(WeightKind.ExpertDown)),
            mlp, release);
    }

    private void Count(Device device, long bytes)
    {
        var name = device.ToString();
        bytesByDevice[name] = bytesByDevice.GetValueOrDefault(name) + bytes;
    }

    public void Dispose()
    {
        foreach (var item in owned) item.Dispose();
        owned.Clear();
        matrices.Clear();
    }
}
