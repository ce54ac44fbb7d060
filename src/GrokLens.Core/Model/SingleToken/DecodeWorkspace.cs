using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GrokLens.Model.SingleToken;

/// <summary>
/// The scratch vectors of single-token decode steps, allocated once per <see cref="KvCache"/> (one sequence, one step at a
/// time) in one pinned array, so a step allocates nothing but its logits tensor.
/// </summary>
internal sealed unsafe class DecodeWorkspace
{
    private readonly float[] memory;

    public DecodeWorkspace(GrokConfig config, int capacity)
    {
        int hidden = config.HiddenSize, queries = config.NumHeads * config.HeadDim, keys = config.NumKvHeads * config.HeadDim;
        int widest = Math.Max(config.ExpertSize, config.DenseSize);
        int[] sizes = [hidden, hidden, hidden, hidden, hidden, queries, keys, keys, queries, capacity, config.NumExperts,
            widest, widest, config.HeadDim / 2, config.HeadDim / 2];
        memory = GC.AllocateUninitializedArray<float>(sizes.Sum(), pinned: true);
        float* next = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(memory));
        float* Take(int size)
        {
            float* taken = next;
            next += size;
            return taken;
        }
        Residual = Take(hidden);
        Normed = Take(hidden);
        Branch = Take(hidden);
        Expert = Take(hidden);
        FeedForward = Take(hidden);
        Query = Take(queries);
        Key = Take(keys);
        Value = Take(keys);
        Mixed = Take(queries);
        Scores = Take(capacity);
        Router = Take(config.NumExperts);
        Gate = Take(widest);
        Up = Take(widest);
        Cos = Take(config.HeadDim / 2);
        Sin = Take(config.HeadDim / 2);
    }

    /// <summary>The residual stream h [D].</summary>
    public float* Residual { get; }

    /// <summary>A normed copy of h, the input of attention, the MoE and the unembedding [D].</summary>
    public float* Normed { get; }

    /// <summary>A branch's output before its norm [D].</summary>
    public float* Branch { get; }

    /// <summary>One expert's (or the dense MLP's) output [D].</summary>
    public float* Expert { get; }

    /// <summary>The gated sum of the experts [D].</summary>
    public float* FeedForward { get; }

    public float* Query { get; }
    public float* Key { get; }
    public float* Value { get; }

    /// <summary>Heads' weighted values z, [H·d].</summary>
    public float* Mixed { get; }

    /// <summary>One head's attention scores over the cached keys [capacity].</summary>
    public float* Scores { get; }

    /// <summary>Router logits, then probabilities [E].</summary>
    public float* Router { get; }

    public float* Gate { get; }
    public float* Up { get; }

    /// <summary>RoPE cos and sin of the step's position [d/2].</summary>
    public float* Cos { get; }
    public float* Sin { get; }
}
