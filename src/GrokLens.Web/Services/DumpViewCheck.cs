using GrokLens.Dumps;
using GrokLens.Hooks;
using GrokLens.Model;
using GrokLens.Web.Views;

namespace GrokLens.Web.Services;

/// <summary>
/// Checks that a dump's hooks fit the views before any array is built: shapes that match the dump's own config and
/// sequence length, and expert indices inside the expert count. The reader checks files against the manifest; this
/// checks the manifest against itself, so a hostile dump is an error message, never a view indexing out of range.
/// </summary>
public static class DumpViewCheck
{
    public static void Check(ActivationCache cache, GrokConfig config, int tokens, string location)
    {
        // Every hook a view reads: those it needs and those it draws when present (the attention scores).
        var used = ExploreResultBuilder.ViewHooks(config.NumLayers).Values.SelectMany(h => h)
            .Concat(ExploreResultBuilder.RequiredHooks(config.NumLayers)).ToHashSet();
        foreach (var hook in cache.Names.Where(used.Contains))
        {
            long[] expected = Expected(hook, config, tokens);
            var actual = cache[hook].shape;
            if (!actual.SequenceEqual(expected))
                throw new DumpFormatException(location,
                    $"hook '{hook}' has shape [{string.Join(", ", actual)}], but the dump's model config and its {tokens} tokens need [{string.Join(", ", expected)}]");
            if (hook.EndsWith(HookPoints.TopKIndices, StringComparison.Ordinal) && actual.Length > 0 && cache[hook].numel() > 0)
            {
                using var low = cache[hook].min();
                using var high = cache[hook].max();
                long min = low.item<long>(), max = high.item<long>();
                if (min < 0 || max >= config.NumExperts)
                    throw new DumpFormatException(location, $"hook '{hook}' names experts {min}…{max}, outside 0…{config.NumExperts - 1}");
            }
        }
    }

    private static long[] Expected(string hook, GrokConfig c, long t) => hook switch
    {
        HookPoints.Logits => [t, c.VocabSize],
        _ when hook == HookPoints.Embed || hook.EndsWith(HookPoints.ResidPost, StringComparison.Ordinal) => [t, c.HiddenSize],
        _ when hook.EndsWith(HookPoints.RouterProbs, StringComparison.Ordinal) => [t, c.NumExperts],
        _ when hook.EndsWith(HookPoints.TopKIndices, StringComparison.Ordinal) || hook.EndsWith(HookPoints.TopKWeights, StringComparison.Ordinal) => [t, c.TopK],
        _ when hook.EndsWith(HookPoints.ExpertPost, StringComparison.Ordinal) => [t, c.TopK, c.ExpertSize],
        _ => [c.NumHeads, t, t], // attention scores and pattern
    };
}
