namespace GrokLens.Web.Views;

/// <summary>An expert neuron with its gated activation.</summary>
public readonly record struct NeuronValue(int Expert, int Neuron, float Value);

public static class NeuronRanking
{
    /// <summary>The <paramref name="count"/> neurons with the largest |activation| of one token in one layer, over its chosen experts.</summary>
    public static NeuronValue[] Strongest(ExploreResult result, int layer, int token, int count)
    {
        var slots = result.ExpertNeurons[layer][token];
        return slots.SelectMany((neurons, slot) => neurons.Select((v, n) => new NeuronValue(result.ChosenExperts[layer][token][slot], n, v)))
            .OrderByDescending(n => Math.Abs(n.Value)).Take(count).ToArray();
    }
}
