using static TorchSharp.torch;

namespace GrokLens.Hooks;

/// <summary>
/// Captured activations of one run, by hook name, on the CPU. For a single sequence the batch dimension is removed,
/// so shapes are those of docs/hooks.md. Dispose to free the native memory.
/// </summary>
public sealed class ActivationCache : IDisposable
{
    private readonly Dictionary<string, Tensor> tensors;
    private readonly List<string> order;

    public ActivationCache(IEnumerable<KeyValuePair<string, Tensor>> captured, IReadOnlyList<int> tokenIds, int positionStart)
    {
        tensors = new Dictionary<string, Tensor>();
        order = new List<string>();
        foreach (var (name, tensor) in captured)
        {
            if (tensors.Remove(name, out var previous)) previous.Dispose();
            else order.Add(name);
            tensors[name] = tensor;
        }
        TokenIds = tokenIds;
        PositionStart = positionStart;
    }

    /// <summary>Token ids of the positions this cache covers.</summary>
    public IReadOnlyList<int> TokenIds { get; }

    /// <summary>Absolute position of the first covered token (0 unless a KV cache was used).</summary>
    public int PositionStart { get; }

    /// <summary>Hook names in the order the forward pass produced them.</summary>
    public IReadOnlyList<string> Names => order;

    public bool Contains(string name) => tensors.ContainsKey(name);

    public Tensor this[string name] => tensors.TryGetValue(name, out var tensor)
        ? tensor
        : throw new KeyNotFoundException(
            $"Hook '{name}' was not captured in this run. Captured: {(order.Count == 0 ? "nothing" : string.Join(", ", order.Take(8)) + (order.Count > 8 ? ", …" : ""))}.");

    public bool TryGet(string name, out Tensor tensor) => tensors.TryGetValue(name, out tensor!);

    public void Dispose()
    {
        foreach (var tensor in tensors.Values) tensor.Dispose();
        tensors.Clear();
        order.Clear();
    }
}
