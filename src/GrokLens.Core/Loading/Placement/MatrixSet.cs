using GrokLens.Checkpoints;
using GrokLens.Kernels;
using GrokLens.Loading.Quantization;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Projection matrices read from a checkpoint for int8 residency or streaming, by weight: matrices the checkpoint stores as
/// int8 stay int8 (when asked), the others are float32. On the CPU the int8 kernels multiply int8 matrices where they
/// lie in the mapped file (nothing is read into memory); on other devices int8 values are copied there and dequantised
/// one matrix at a time. Owns what it read; disposing frees it.
/// </summary>
internal sealed class MatrixSet : IDisposable
{
    private readonly Dictionary<WeightId, object> matrices = new();
    private readonly List<IDisposable> owned = new();
    private readonly Dictionary<string, long> bytesByDevice = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, long> BytesByDevice => bytesByDevice;

    /// <summary>Bytes held in memory (mapped matrices not included).</summary>
    public long Bytes => bytesByDevice.Where(d => d.Key != MappedDevice).Sum(d => d.Value);

    /// <summary>How many matrices are held as int8 (mapped for the kernels or copied).</summary>
    public int Int8Count { get; private set; }

    /// <summary>How many int8 matrices the kernels read in place in a mapped file.</summary>
    public int MappedCount { get; private set; }

    /// <summary>Bytes of mapped int8 matrices: page cache, counted in <see cref="BytesByDevice"/> as "cpu (mapped file)".</summary>
    public long MappedBytes { get; private set; }

    /// <summary>The mapped matrices' memory, for read-ahead.</summary>
    public List<MemoryRegion> MappedRegions { get; } = new();

    /// <summary>Reads one matrix onto <paramref name="device"/>.</summary>
    public void Read(IWeightSource source, WeightId id, long[] shape, Device device, bool keepInt8)
    {
        if (keepInt8 && device.type == DeviceType.CPU && source is IInt8KernelSource kernelSource && kernelSource.TryMapInt8(id, shape) is { } mapped)
        {
            if (mapped.Owner is not null) owned.Add(mapped.Owner);
            matrices[id] = id.IsExpertStack ? new KernelExperts(mapped.Parts) : new KernelMatrix(mapped.Parts[0]);
            MappedBytes += mapped.Bytes;
            Count(MappedDevice, mapped.Bytes);
            MappedRegions.AddRange(mapped.Parts.Select(part => MemoryRegion.Of(part)));
            MappedCount++;
            Int8Count++;
            return;
        }
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

    /// <summary>The memory of mapped matrices: the page cache, which the kernel fills on use and may evict.</summary>
    public const string MappedDevice = "cpu (mapped file)";

    private void Count(Device device, long bytes) => Count(device.ToString(), bytes);

    private void Count(string name, long bytes) => bytesByDevice[name] = bytesByDevice.GetValueOrDefault(name) + bytes;

    public void Dispose()
    {
        foreach (var item in owned) item.Dispose();
        owned.Clear();
        matrices.Clear();
    }
}
