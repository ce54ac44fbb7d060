using GrokLens.Dumps;
using GrokLens.Hooks;
using GrokLens.Model;

namespace GrokLens.Web.Services;

/// <summary>
/// Checks a dump's values that the views index with: expert indices inside the expert count. (Names and shapes of every
/// hook were checked against the dump's config and tokens when the dump was opened: <see cref="DumpHookShapes"/>.)
/// A hostile dump is thus an error message, never a view indexing out of range.
/// </summary>
public static class DumpViewCheck
{
    public static void Check(ActivationCache cache, GrokConfig config, string location)
    {
        foreach (var hook in cache.Names.Where(h => h.EndsWith(HookPoints.TopKIndices, StringComparison.Ordinal)))
        {
            if (cache[hook].numel() == 0) continue;
            using var low = cache[hook].min();
            using var high = cache[hook].max();
            long min = low.item<long>(), max = high.item<long>();
            if (min < 0 || max >= config.NumExperts)
                throw new DumpFormatException(location, $"hook '{hook}' names experts {min}…{max}, outside 0…{config.NumExperts - 1}");
        }
    }
}
