using TorchSharp.Modules;

namespace GrokLens.Model;

/// <summary>
/// Creates the model's parameters from an <see cref="IWeightSource"/> and remembers each one's canonical name, so the
/// model can list, save or replace its weights by name.
/// </summary>
public sealed class ParameterBuilder(IWeightSource source)
{
    private readonly List<(string Name, Parameter Parameter)> created = new();

    public IReadOnlyList<(string Name, Parameter Parameter)> Created => created;

    public Parameter Create(string name, long[] shape)
    {
        var tensor = source.Create(name, shape);
        if (!tensor.shape.SequenceEqual(shape))
        {
            var actual = string.Join(", ", tensor.shape);
            tensor.Dispose();
            throw new InvalidDataException($"Weight '{name}' has shape [{actual}], the config needs [{string.Join(", ", shape)}].");
        }
        var parameter = new Parameter(tensor);
        created.Add((name, parameter));
        return parameter;
    }
}
