using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Kernels;

/// <summary>
/// Addresses of CPU tensors' float32 data, for kernels that read and write them in place. TorchSharp 0.107 has no
/// Tensor.data_ptr(); <c>Tensor.bytes</c> is a span over the tensor's own memory (libtorch's data_ptr, storage offset
/// included), refused above 2 GB, so larger tensors go through <see cref="Checkpoints.TensorBytes.Pointer"/>.
/// (<c>storage&lt;T&gt;().data_ptr()</c> would give the storage's start without the offset and makes a tensor per call.)
/// </summary>
internal static unsafe class TensorMemory
{
    public static float* Float32(Tensor tensor, string name)
    {
        if (tensor.dtype != ScalarType.Float32) throw new ArgumentException($"{name} must be float32, got {tensor.dtype}.", name);
        if (tensor.device_type != DeviceType.CPU) throw new ArgumentException($"{name} must be on the CPU, got {tensor.device}.", name);
        if (!tensor.is_contiguous()) throw new ArgumentException($"{name} must be contiguous.", name);
        if (tensor.NumberOfElements == 0) throw new ArgumentException($"{name} is empty.", name);
        long bytes = tensor.NumberOfElements * sizeof(float);
        if (bytes > int.MaxValue) return (float*)Checkpoints.TensorBytes.Pointer(tensor);
        fixed (byte* pointer = tensor.bytes) return (float*)pointer;
    }
}
