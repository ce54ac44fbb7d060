using GrokLens.Loading.Placement;
using GrokLens.Model;
using GrokLens.Tokenization;

namespace GrokLens.Loading;

/// <summary>How to load a model.</summary>
public sealed record LoadOptions
{
    /// <summary>Torch device string: "cpu", "cuda", "cuda:1". A CUDA build of TorchSharp runs the same code.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Layers → devices, e.g. "0-31:cuda:0,32-63:cpu", or "auto" (by free memory); overrides <see cref="Device"/>.</summary>
    public string? DeviceMap { get; init; }

    /// <summary>
    /// Keep int8 matrices int8 (GGUF Q8_0, xAI's QuantizedWeight8bit): multiplied by the int8 kernels in the mapped file on
    /// the CPU, dequantised one matrix at a time on a GPU.
    /// </summary>
    public bool Int8Weights { get; init; }

    /// <summary>
    /// Where xAI's raw int8 weights are repacked once for the int8 kernels (as large as the int8 weights: 296 GiB for all
    /// of Grok-1). Null: <c>ckpt-0/.groklens-int8</c> if writable, else a folder under the user's cache directory.
    /// </summary>
    public string? Int8CacheFolder { get; init; }

    /// <summary>Hold no layer weights: read each layer from the checkpoint when it runs, prefetching the next.</summary>
    public bool StreamLayers { get; init; }

    /// <summary>Reports each streamed layer as it becomes ready.</summary>
    public IProgress<LayerProgress>? LayerProgress { get; init; }

    /// <summary>Overrides the tokenizer found beside the weights.</summary>
    public ITokenizer? Tokenizer { get; init; }

    /// <summary>
    /// Load only these decoder layers (a cluster shard): other layers' weights are never read (meta tensors), the
    /// embedding only for a range starting at layer 0 (or ending at the last layer with a tied head), the final norm and
    /// the head only for a range ending at the last layer. Null: the whole model.
    /// </summary>
    public LayerRange? Layers { get; init; }

    /// <summary>Display name; defaults to the model folder's name.</summary>
    public string? Name { get; init; }

    public IProgress<LoadProgress>? Progress { get; init; }
}
