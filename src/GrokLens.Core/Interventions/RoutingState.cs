using static TorchSharp.torch;

namespace GrokLens.Interventions;

/// <summary>
/// Router probabilities and the final choices of one layer in one run, recorded by the routing interventions so that
/// the gate weights can follow changed expert indices (gates are always the raw probabilities of the chosen experts).
/// </summary>
internal sealed class RoutingState
{
    public Tensor? Probabilities;
    public Tensor? Indices;

    public Tensor? RecordProbabilities(Tensor probabilities)
    {
        Probabilities = probabilities;
        return null;
    }

    public Tensor GatesOf(Tensor indices) =>
        (Probabilities ?? throw new InvalidOperationException("router probabilities were not recorded")).gather(-1, indices);
}
