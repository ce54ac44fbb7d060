using GrokLens.Hooks;

namespace GrokLens.Interventions;

/// <summary>Which dimension of a hook's batched tensor holds positions and which holds heads.</summary>
public static class HookLayout
{
    /// <summary>Dimension of query positions in the batched tensor (attention scores are [B, H, T, Tk]).</summary>
    public static int PositionDimension(string hookName) =>
        hookName.EndsWith(HookPoints.AttnScoresRaw) || hookName.EndsWith(HookPoints.AttnScores) || hookName.EndsWith(HookPoints.Pattern) ? 2 : 1;

    /// <summary>Dimension of heads, or null when the hook has no head dimension.</summary>
    public static int? HeadDimension(string hookName) =>
        hookName.EndsWith(HookPoints.AttnScoresRaw) || hookName.EndsWith(HookPoints.AttnScores) || hookName.EndsWith(HookPoints.Pattern) ? 1
        : hookName.EndsWith(HookPoints.Q) || hookName.EndsWith(HookPoints.K) || hookName.EndsWith(HookPoints.V)
          || hookName.EndsWith(HookPoints.Z) || hookName.EndsWith(HookPoints.Result) ? 2
        : null;
}
