using GrokLens.Dumps;
using GrokLens.Web.Services;

namespace GrokLens.Web.Compare;

/// <summary>One side (A or B) of a dump comparison: an opened dump and the run of it compared.</summary>
public sealed record DumpSide(OpenedDump Dump, DumpRun Run)
{
    public string Label => $"{Dump.Name} · {Run.Id}";

    /// <summary>
    /// Refuses two runs that cannot be compared position by position: another number of tokens, or another model
    /// (weights hash, or name and config when a dump has no hash). The message says which and why.
    /// </summary>
    public static void CheckComparable(DumpSide a, DumpSide b)
    {
        if (DifferentModels(a.Dump.Manifest.Model, b.Dump.Manifest.Model) is { } models)
            throw new DumpMismatchException($"Cannot compare A ({a.Label}) with B ({b.Label}): {models}. " +
                                            "Activations of different models do not correspond, so their differences mean nothing.");
        if (a.Run.TokenIds.Count != b.Run.TokenIds.Count)
            throw new DumpMismatchException($"Cannot compare A ({a.Label}, {a.Run.TokenIds.Count} tokens) with B ({b.Label}, " +
                                            $"{b.Run.TokenIds.Count} tokens): the comparison pairs position t of A with position t of B, " +
                                            "so both runs need the same number of tokens.");
    }

    private static string? DifferentModels(DumpModelInfo a, DumpModelInfo b)
    {
        switch (a.SameWeights(b))
        {
            case true:
                return null;
            case false when a.HasWeights && b.HasWeights:
                return $"A was made with model '{a.Name}' ({a.ShortIdentity}) and B with model '{b.Name}' ({b.ShortIdentity})";
            case false:
                return $"one of the dumps was made with generated (random) weights of model '{(a.HasWeights ? b.Name : a.Name)}', the other with " +
                       $"the weights of '{(a.HasWeights ? a.Name : b.Name)}'";
        }
        if (a.Name != b.Name) return $"A was made with model '{a.Name}' and B with model '{b.Name}'";
        return a.Config.ToJsonString() == b.Config.ToJsonString() ? null : $"the two dumps record different configs for model '{a.Name}'";
    }
}

/// <summary>Two dump runs that cannot be compared (different models or token counts).</summary>
public sealed class DumpMismatchException(string message) : ArgumentException(message);
