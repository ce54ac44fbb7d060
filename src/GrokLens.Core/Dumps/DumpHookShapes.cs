using System.Globalization;
using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Dumps;

/// <summary>
/// What a hook tensor of a dump must look like for the config the dump records: its name is a hook of that model
/// (a layer it has), and its shape is the hook's symbolic shape (docs/hooks.md) with the config's sizes and the run's
/// token count. Checked on the manifest alone, so a dump whose config does not fit its tensors is refused before any
/// tensor is read or any view array is built.
/// </summary>
public static class DumpHookShapes
{
    private static readonly Dictionary<string, string> PerLayer =
        HookPoints.PerLayer.ToDictionary(h => h.Suffix, h => h.Shape, StringComparer.Ordinal);

    private static readonly Dictionary<string, string> Global = new(StringComparer.Ordinal)
    {
        [HookPoints.Embed] = "[T, D]",
        [HookPoints.FinalNorm] = "[T, D]",
        [HookPoints.Logits] = "[T, V]",
    };

    /// <summary>The problem with a hook entry, in words, or null when it fits.</summary>
    public static string? Problem(string hook, IReadOnlyList<long> shape, GrokConfig config, int tokens)
    {
        string? symbolic;
        if (!Global.TryGetValue(hook, out symbolic))
        {
            if (!TryParseLayer(hook, out int layer, out var suffix) || !PerLayer.TryGetValue(suffix, out symbolic))
                return $"'{hook}' is not a hook name (docs/hooks.md lists them)";
            if (layer >= config.NumLayers)
                return $"hook '{hook}' is of layer {layer}, but the dump's model config has {config.NumLayers} layers";
        }
        var expected = Evaluate(symbolic, config, tokens);
        return expected.SequenceEqual(shape) ? null
            : $"hook '{hook}' has shape [{string.Join(", ", shape)}], but the dump's model config and the run's {tokens} tokens " +
              $"make it {symbolic} = [{string.Join(", ", expected)}]";
    }

    /// <summary>"blocks.{layer}.{suffix}" with a plain non-negative layer number.</summary>
    public static bool TryParseLayer(string hook, out int layer, out string suffix)
    {
        layer = -1;
        suffix = "";
        const string prefix = "blocks.";
        if (!hook.StartsWith(prefix, StringComparison.Ordinal)) return false;
        int dot = hook.IndexOf('.', prefix.Length);
        if (dot < 0) return false;
        var number = hook.AsSpan(prefix.Length, dot - prefix.Length);
        if (number.Length is 0 or > 9 || number[0] == '0' && number.Length > 1) return false;
        if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out layer)) return false;
        suffix = hook[(dot + 1)..];
        return true;
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
            "V" => c.VocabSize,
            _ => throw new InvalidOperationException($"Unknown shape symbol '{symbol}' in the hook catalogue."),
        }).ToArray();
}
