using TorchSharp;

namespace GrokLens.Checkpoints;

/// <summary>Named tensors that can be read one at a time (a safetensors file or a sharded checkpoint).</summary>
public interface ITensorSource : IDisposable
{
    IReadOnlyCollection<string> Names { get; }

    bool Contains(string name);

    /// <summary>Header entry of a tensor; throws <see cref="CheckpointFormatException"/> if there is none.</summary>
    SafetensorsTensorInfo Info(string name);

    /// <summary>Reads a tensor converted to float32 (exact for F16/BF16), on <paramref name="device"/> (CPU by default).</summary>
    torch.Tensor LoadFloat32(string name, torch.Device? device = null);

    /// <summary>Reads a tensor in its stored dtype, on <paramref name="device"/> (CPU by default).</summary>
    torch.Tensor Load(string name, torch.Device? device = null);

    /// <summary>The file or folder path, for messages.</summary>
    string Description { get; }
}
