namespace GrokLens.Web.Components.Workbench;

/// <summary>
/// Lets a large component skip renders whose inputs did not change. Every render of the page re-renders its children,
/// and a table of hundreds of cells with click handlers re-sends all of them (new handler ids) even when nothing changed.
/// </summary>
public sealed class RenderGate
{
    private object? shown;

    /// <summary>True (and remembered) when <paramref name="inputs"/> differ from those last shown.</summary>
    public bool Changed(object inputs)
    {
        if (Equals(inputs, shown)) return false;
        shown = inputs;
        return true;
    }
}
