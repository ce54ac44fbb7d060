namespace GrokLens;

/// <summary>Marker so the assembly is never empty while the engine grows.</summary>
public static class GrokLensInfo
{
    public static string Version => typeof(GrokLensInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
