using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Interventions;

/// <summary>Checks that a hook name exists in a model, with close matches when it does not.</summary>
internal static class ActivationTarget
{
    public static void Check(GrokConfig config, string hook)
    {
        var names = HookPoints.All(config).Select(h => h.Name).ToList();
        if (names.Contains(hook)) return;
        var close = HookPatterns.ClosestNames(hook, names, 3);
        throw new InterventionException($"hook '{hook}' does not exist in this model." +
            (close.Count > 0 ? $" Did you mean: {string.Join(", ", close)}?" : ""));
    }
}
