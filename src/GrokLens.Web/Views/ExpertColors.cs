namespace GrokLens.Web.Views;

/// <summary>One colour per expert (Tableau 10, readable on light and dark backgrounds with dark text).</summary>
public static class ExpertColors
{
    private static readonly string[] Palette =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    public static string Of(int expert) => Palette[expert % Palette.Length];
}
