using System.Text.RegularExpressions;

namespace GrokLens.Hooks;

/// <summary>
/// Resolves glob patterns (<c>*</c> any characters, <c>?</c> one character, <c>{a,b}</c> alternatives) against hook names.
/// A pattern that matches nothing is an error that lists the closest names, so a typo never silently captures nothing.
/// </summary>
public static class HookPatterns
{
    public static IReadOnlyList<string> Resolve(IEnumerable<string> patterns, IReadOnlyList<string> hookNames)
    {
        var selected = new HashSet<string>();
        foreach (var raw in patterns)
        {
            var pattern = raw.Trim();
            if (pattern.Length == 0) continue;
            var regex = ToRegex(pattern);
            var matches = hookNames.Where(name => regex.IsMatch(name)).ToList();
            if (matches.Count == 0)
            {
                var close = ClosestNames(pattern, hookNames, 5);
                throw new UnknownHookException(
                    $"Hook '{pattern}' matches no hook point of this model." +
                    (close.Count > 0 ? $" Did you mean: {string.Join(", ", close)}?" : "") +
                    " Use '*' for every hook; docs/hooks.md lists them all.", close);
            }
            selected.UnionWith(matches);
        }
        // Keep forward order, so captures come back in the order the model produced them.
        return hookNames.Where(selected.Contains).ToList();
    }

    /// <summary>
    /// Splits a list of patterns on commas, semicolons and white space outside braces, so
    /// "blocks.{0,1}.hook_resid_post, logits" is two patterns. A brace left open is an <see cref="ArgumentException"/>.
    /// </summary>
    public static IReadOnlyList<string> Split(string? list)
    {
        list ??= "";
        var patterns = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i <= list.Length; i++)
        {
            if (i == list.Length || (depth == 0 && (list[i] is ',' or ';' || char.IsWhiteSpace(list[i]))))
            {
                var part = list[start..i].Trim();
                if (part.Length > 0) patterns.Add(part);
                start = i + 1;
            }
            else if (list[i] == '{') depth++;
            else if (list[i] == '}' && depth > 0) depth--;
        }
        if (depth > 0) throw new ArgumentException($"The hook pattern list '{list}' has a '{{' without its '}}'.");
        return patterns;
    }

    public static Regex ToRegex(string pattern)
    {
        var builder = new System.Text.StringBuilder("^");
        int braces = 0;
        foreach (char c in pattern)
        {
            switch (c)
            {
                case '*': builder.Append(".*"); break;
                case '?': builder.Append('.'); break;
                case '{': builder.Append("(?:"); braces++; break;
                case '}' when braces > 0: builder.Append(')'); braces--; break;
                case ',' when braces > 0: builder.Append('|'); break;
                default: builder.Append(Regex.Escape(c.ToString())); break;
            }
        }
        if (braces != 0) throw new ArgumentException($"Hook pattern '{pattern}' has an unclosed '{{'.");
        builder.Append('$');
        return new Regex(builder.ToString(), RegexOptions.CultureInvariant);
    }

    /// <summary>Names nearest to <paramref name="query"/> by edit distance (wildcards ignored).</summary>
    public static IReadOnlyList<string> ClosestNames(string query, IReadOnlyList<string> names, int count)
    {
        var literal = query.Replace("*", "").Replace("?", "");
        return names
            .Select(name => (name, distance: EditDistance(literal, name)))
            .Where(x => x.distance <= Math.Max(3, literal.Length / 2))
            .OrderBy(x => x.distance).ThenBy(x => x.name, StringComparer.Ordinal)
            .Take(count).Select(x => x.name).ToList();
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
