using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GrokLens.Model;

/// <summary>
/// A decoder layer's projection matrices as float32 parameters (resident weights, and training). Their shapes here are
/// the model's definition of each matrix: weight sources, int8 weights and streaming all follow them.
/// </summary>
public sealed class LayerMatrixParameters : nn.Module
{
    public readonly Parameter query;
    public readonly Parameter key;
    public readonly Parameter value;
    public readonly Parameter attentionOutput;
    public readonly Parameter expertGate;
    public readonly Parameter expertUp;
    public readonly Parameter expertDown;
    public readonly Parameter? denseGate;
    public readonly Parameter? denseUp;
    public readonly Parameter? denseDown;
    private readonly LayerMatrices matrices;

    public LayerMatrixParameters(int layer, GrokConfig config, ParameterBuilder weights) : base($"matrices{layer}")
    {
        long d = config.HiddenSize, q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKvHeads * config.HeadDim;
        long e = config.NumExperts, f = config.ExpertSize;
        query = weights.Create(new(WeightKind.Query, layer), [q, d]);
        key = weights.Create(new(WeightKind.Key, layer), [kv, d]);
        value = weights.Create(new(WeightKind.Value, layer), [kv, d]);
        attentionOutput = weights.Create(new(WeightKind.AttentionOutput, layer), [d, q]);
        expertGate = weights.Create(new(WeightKind.ExpertGate, layer), [e, f, d]);
        expertUp = weights.Create(new(WeightKind.ExpertUp, layer), [e, f, d]);
        expertDown = weights.Create(new(WeightKind.ExpertDown, layer), [e, d, f]);
        if (config.ResidualMoe)
        {
            long dense = config.DenseSize;
            denseGate = weights.Create(new(WeightKind.DenseGate, layer), [dense, d]);
            denseUp = weights.Create(new(WeightKind.DenseUp, layer), [dense, d]);
            denseDown = weights.Create(new(WeightKind.DenseDown, layer), [d, dense]);
        }
        matrices = new LayerMatrices(
            new AttentionMatrices(new FloatMatrix(query), new FloatMatrix(key), new FloatMatrix(value), new FloatMatrix(attentionOutput)),
            new ExpertMatrices(new FloatExperts(expertGate), new FloatExperts(expertUp), new FloatExperts(expertDown)),
            denseGate is null ? null : new MlpMatrices(new FloatMatrix(denseGate), new FloatMatrix(denseUp!), new FloatMatrix(denseDown!)));
        RegisterComponents();
    }

    /// <summary>The parameters as the forward pass's matrices (disposing the result frees nothing).</summary>
    public LayerMatrices Matrices => matrices;
}
