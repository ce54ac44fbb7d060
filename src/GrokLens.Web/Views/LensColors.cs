namespace GrokLens.Web.Views;

/// <summary>Background for a logit-lens cell: white (p = 0) to deep blue (p = 1), with dark or light text to match.</summary>
public static class LensColors
{
    public static string Background(float probability)
    {
        if (!float.IsFinite(probability)) return "rgb(200,200,200)"; // NaN: grey, as a gap
        double p = Math.Clamp(probability, 0, 1);
        int r = (int)(255 - p * (255 - 33)), g = (int)(255 - p * (255 - 102)), b = (int)(255 - p * (255 - 172));
        return $"rgb({r},{g},{b})";
    }

    public static string Text(float probability) => probability > 0.55 ? "#ffffff" : "#111111";
}
