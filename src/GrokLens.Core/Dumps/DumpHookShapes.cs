using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Dumps;

/// <summary>
/// What a hook tensor of a dump must look like for the config the dump records: its name is a hook of that model
/// (a layer it has, a Grok-2 point its config uses), and its shape is the hook's symbolic shape (docs/hooks.md) with
/// the config's sizes and the run's token count. Checked on the manifest alone, so a dump whose config does not fit its
/// tensors is refused before any tensor is read or any view array is built.
/// </summary>
public static class DumpHookShapes
{
    /// <summary>The problem with a hook entry, in words, or null when it fits.</summary>
    public static string? Problem(string hook, IReadOnlyList<long> shape, GrokConfig config, int tokens)
    {
        var symbolic = HookPoints.ShapeOf(config, hook);
        if (symbolic is null)
            return HookPoints.TryParseLayer(hook, out int layer, out _) && layer >= config.NumLayers
                ? $"hook '{hook}' is of layer {layer}, but the dump's model config has {config.NumLayers} layers"
                : $"'{hook}' is not a hook name of the dump's model (docs/hooks.md lists them)";
        var expected = Evaluate(symbolic, config, tokens);
        return expected.SequenceEqual(shape) ? null
            : $"hook '{hook}' has shape [{string.Join(", ", shape)}], but the dump's model config and the run's {tokens} tokens " +
              $"make it {symbolic} = [{string.Join(", ", expected)}]";
    }

    private static long[] Evaluate(string symbolic, GrokConfig c, long tokens) =>
        symbolic.Trim('[', ']').Split(", ").Select(symbol => symbol switch
        {
            "T" or "Tk" => tokens,
            "D" => c.HiddenSize,
            "H" => c.NumHeads,
            "Hkv" => c.NumKvHeads,
            "d" => c.HeadDim,
            "E" => c.NumExperts,
            "k" => c.TopK,
            "F" => c.ExpertSize,
            "Fd" => c.DenseSize,
            "V" => c.VocabSize,
            _ => throw new InvalidOperationException($"Unknown shape symbol '{symbol}' in the hook catalogue."),
        }).ToArray();
}
