using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>Turns absolute positions into a boolean mask over a hook tensor's position dimension.</summary>
internal static class PositionMask
{
    /// <summary>
    /// A mask broadcastable to <paramref name="activation"/>, true at the chosen positions (all when null), along
    /// dimension <paramref name="positionDim"/>; <paramref name="offset"/> is the absolute position of index 0.
    /// </summary>
    public static Tensor For(Tensor activation, int positionDim, IReadOnlyList<int>? positions, int offset)
    {
        long length = activation.shape[positionDim];
        var selected = new bool[length];
        for (int i = 0; i < length; i++) selected[i] = positions is null || positions.Count == 0 || positions.Contains(offset + i);
        var shape = Enumerable.Repeat(1L, (int)activation.dim()).ToArray();
        shape[positionDim] = length;
        return tensor(selected, device: activation.device).view(shape);
    }

    /// <summary>Like <see cref="For"/>, further restricted to some heads along <paramref name="headDim"/>.</summary>
    public static Tensor ForHeads(Tensor activation, int positionDim, IReadOnlyList<int>? positions, int offset,
        int headDim, IReadOnlyList<int>? heads)
    {
        var mask = For(activation, positionDim, positions, offset);
        if (heads is null || heads.Count == 0) return mask;
        long count = activation.shape[headDim];
        var chosen = new bool[count];
        foreach (int h in heads) chosen[h] = true;
        var shape = Enumerable.Repeat(1L, (int)activation.dim()).ToArray();
        shape[headDim] = count;
        return mask.logical_and(tensor(chosen, device: activation.device).view(shape));
    }
}
