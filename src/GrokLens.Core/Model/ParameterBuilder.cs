using TorchSharp.Modules;

namespace GrokLens.Model;

/// <summary>
/// Creates the model's parameters from an <see cref="IWeightSource"/> and remembers which weight each one is, so the
/// model can list, save or replace its weights.
/// </summary>
public sealed class ParameterBuilder(IWeightSource source)
{
    private readonly List<(WeightId Id, Parameter Parameter)> created = new();

    public IReadOnlyList<(WeightId Id, Parameter Parameter)> Created => created;

    public Parameter Create(WeightId id, long[] shape)
    {
        var tensor = source.Create(id, shape);
        if (!tensor.shape.SequenceEqual(shape))
        {
            var actual = string.Join(", ", tensor.shape);
            tensor.Dispose();
            throw new InvalidDataException($"Weight '{id}' has shape [{actual}], the config needs [{string.Join(", ", shape)}].");
        }
        var parameter = new Parameter(tensor);
        created.Add((id, parameter));
        return parameter;
    }
}
