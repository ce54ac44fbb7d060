using GrokLens.Kernels;
using GrokLens.Model.SingleToken;
using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>
/// Keys (after RoPE) and values of every layer for the positions seen so far, preallocated to a capacity, plus which
/// key positions are real tokens (pad keys are masked). One cache belongs to one batch of sequences. Each layer's keys
/// and values live on that layer's device (a device map may spread layers); the token flags on the model's device.
/// </summary>
public sealed unsafe class KvCache : IDisposable
{
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;
    private readonly Tensor keyIsToken;

    public KvCache(GrokConfig config, int batchSize, int capacity, Device device)
        : this(config, batchSize, capacity, device, Enumerable.Repeat(device, config.NumLayers).ToArray())
    {
    }

    /// <summary>A cache for <paramref name="model"/>: each layer's part on that layer's device.</summary>
    public KvCache(GrokModel model, int batchSize, int capacity)
        : this(model.Config, batchSize, capacity, model.Device, model.layers.Select(layer => layer.Device).ToArray())
    {
    }

    /// <summary>A cache for the layers of <paramref name="layers"/> only (a cluster shard); the others hold nothing.</summary>
    public KvCache(GrokModel model, int batchSize, int capacity, LayerRange layers)
        : this(model.Config, batchSize, capacity, model.Device, model.layers.Select(layer => layer.Device).ToArray(), layers)
    {
    }

    private KvCache(GrokConfig config, int batchSize, int capacity, Device device, Device[] layerDevices, LayerRange? held = null)
    {
        if (capacity <= 0 || capacity > config.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"KV cache capacity must be 1…{config.MaxPositions}.");
        Capacity = capacity;
        BatchSize = batchSize;
        HoldsEveryLayer = held is null;
        keys = new Tensor[config.NumLayers];
        values = new Tensor[config.NumLayers];
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            if (held is { } range && !range.Contains(layer)) continue;
            keys[layer] = zeros([batchSize, capacity, config.NumKvHeads, config.HeadDim], device: layerDevices[layer]);
            values[layer] = zeros([batchSize, capacity, config.NumKvHeads, config.HeadDim], device: layerDevices[layer]);
            keys[layer]!.DetachFromDisposeScope();
            values[layer]!.DetachFromDisposeScope();
        }
        keyIsToken = zeros([batchSize, capacity], dtype: ScalarType.Bool, device: device);
        keyIsToken.DetachFromDisposeScope();
    }

    public int Capacity { get; }

    public int BatchSize { get; }

    /// <summary>False for a cluster shard's cache, which holds only its layers.</summary>
    public bool HoldsEveryLayer { get; }

    /// <summary>Whether this cache holds <paramref name="layer"/>'s keys and values.</summary>
    public bool Holds(int layer) => layer >= 0 && layer < keys.Length && keys[layer] is not null;

    /// <summary>The single-token decoder's scratch vectors for this sequence (made on its first step).</summary>
    internal DecodeWorkspace? Workspace { get; set; }

    /// <summary>Sequence 0's keys of one layer, [capacity, Hkv, d], for the single-token decoder to write.</summary>
    internal float* KeyMemory(int layer) => TensorMemory.Float32(keys[layer]!, "keys");

    /// <summary>Sequence 0's values of one layer, [capacity, Hkv, d].</summary>
    internal float* ValueMemory(int layer) => TensorMemory.Float32(values[layer]!, "values");

    /// <summary>Sequence 0's flags, one byte per position: 1 when the key there is a real token.</summary>
    internal byte* KeyIsTokenMemory
    {
        get
        {
            fixed (byte* flags = keyIsToken.bytes) return flags;
        }
    }

    /// <summary>Records whether the key at <paramref name="position"/> (the next one) is a real token, as <see cref="AppendKeyIsToken"/> does.</summary>
    internal void MarkKeyIsToken(int position, bool isToken)
    {
        if (position + 1 > Capacity)
            throw new InvalidOperationException($"KV cache full: {Length} + 1 positions exceed its capacity {Capacity}.");
        KeyIsTokenMemory[position] = isToken ? (byte)1 : (byte)0;
    }

    /// <summary>Positions already stored.</summary>
    public int Length { get; private set; }

    /// <summary>Stores whether the new positions are real tokens; returns the flags of all positions so far.</summary>
    internal Tensor AppendKeyIsToken(Tensor isToken)
    {
        int count = (int)isToken.shape[1];
        if (Length + count > Capacity)
            throw new InvalidOperationException($"KV cache full: {Length} + {count} positions exceed its capacity {Capacity}.");
        using (no_grad()) keyIsToken.narrow(1, Length, count).copy_(isToken);
        return keyIsToken.narrow(1, 0, Length + count);
    }

    /// <summary>Writes this call's keys and values of one layer and returns all positions so far, [B, Tk, Hkv, d].</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor newKeys, Tensor newValues)
    {
        int count = (int)newKeys.shape[1];
        var layerKeys = keys[layer] ?? throw new InvalidOperationException($"This KV cache holds no layer {layer}.");
        var layerValues = values[layer]!;
        using (no_grad())
        {
            layerKeys.narrow(1, Length, count).copy_(newKeys);
            layerValues.narrow(1, Length, count).copy_(newValues);
        }
        return (layerKeys.narrow(1, 0, Length + count), layerValues.narrow(1, 0, Length + count));
    }

    /// <summary>Called once per forward pass, after every layer has appended (by the model, or by whoever runs its parts).</summary>
    public void Advance(int count) => Length += count;

    public void Dispose()
    {
        foreach (var tensor in keys.Concat(values)) tensor?.Dispose();
        keyIsToken.Dispose();
    }
}
