using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Interventions;

/// <summary>Runs a model with a list of interventions (switched-off ones are skipped).</summary>
public static class InterventionRunner
{
    /// <summary>
    /// Validates every enabled intervention first (nothing runs with a half-valid list), then runs once with their hook
    /// functions added after <paramref name="options"/>' own. <paramref name="source"/> feeds patching interventions.
    /// </summary>
    public static RunResult Run(IModelEngine model, IReadOnlyList<int> tokenIds, IEnumerable<Intervention> interventions,
        RunOptions? options = null, ActivationCache? source = null)
    {
        options ??= new RunOptions();
        return model.Run(tokenIds, options with { Interventions = [.. options.Interventions, .. interventions], Source = source ?? options.Source });
    }

    /// <summary>
    /// Validates every enabled intervention (naming the first invalid one) and returns their hook functions, with
    /// fresh state, for one run or one generation (<see cref="Generation.TextGenerator"/> takes them too).
    /// </summary>
    public static IReadOnlyList<(string HookName, HookFunction Function)> CreateHooks(GrokConfig config,
        IEnumerable<Intervention> interventions, ActivationCache? source = null)
    {
        var active = interventions.Where(i => i.Enabled).ToList();
        for (int i = 0; i < active.Count; i++)
        {
            try
            {
                active[i].Validate(config);
            }
            catch (InterventionException e)
            {
                throw new InterventionException($"intervention {i + 1} ({active[i].Describe()}): {e.Message}");
            }
        }
        var context = new InterventionContext(config, source);
        return active.SelectMany(i => i.CreateHooks(context)).ToList();
    }

    /// <summary>Hooks a source run must capture for the patching interventions in the list.</summary>
    public static IReadOnlyList<string> SourceHooks(GrokConfig config, IEnumerable<Intervention> interventions) =>
        interventions.Where(i => i.Enabled).SelectMany(i => i switch
        {
            PatchActivation p => [p.Hook],
            PatchRouting r => r.SourceHooks(config),
            PatchExpertOutputs e => e.SourceHooks(config),
            _ => Enumerable.Empty<string>(),
        }).Distinct().ToList();
}
