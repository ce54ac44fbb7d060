using GrokLens.Engine;
using GrokLens.Hooks;

namespace GrokLens.Interventions;

/// <summary>Runs a model with a list of interventions (switched-off ones are skipped).</summary>
public static class InterventionRunner
{
    /// <summary>
    /// Validates every enabled intervention first (nothing runs with a half-valid list), then runs once with their hook
    /// functions added after <paramref name="options"/>' own. <paramref name="source"/> feeds patching interventions.
    /// </summary>
    public static RunResult Run(LoadedModel model, IReadOnlyList<int> tokenIds, IEnumerable<Intervention> interventions,
        RunOptions? options = null, ActivationCache? source = null)
    {
        var active = interventions.Where(i => i.Enabled).ToList();
        for (int i = 0; i < active.Count; i++)
        {
            try
            {
                active[i].Validate(model.Config);
            }
            catch (InterventionException e)
            {
                throw new InterventionException($"intervention {i + 1} ({active[i].Describe()}): {e.Message}");
            }
        }
        var context = new InterventionContext(model.Config, source);
        var hooks = active.SelectMany(i => i.CreateHooks(context)).ToList();
        options ??= new RunOptions();
        return model.Run(tokenIds, options with { Hooks = [.. options.Hooks, .. hooks] });
    }

    /// <summary>Hooks a source run must capture for the patching interventions in the list.</summary>
    public static IReadOnlyList<string> SourceHooks(IEnumerable<Intervention> interventions) =>
        interventions.Where(i => i.Enabled).OfType<PatchActivation>().Select(p => p.Hook).Distinct().ToList();
}
