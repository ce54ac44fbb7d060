namespace GrokLens.Web.Services;

/// <summary>
/// How long a prompt the workbench accepts. The text box stops at <see cref="MaxCharacters"/> and says so; the
/// server refuses anything longer; and the Blazor hub takes messages large enough for that many characters of any
/// kind (up to 6 bytes each as JSON), so a long paste is never a dropped connection.
/// </summary>
public static class PromptLimits
{
    public const int MaxCharacters = 65_536;

    public const long HubMessageBytes = 512L << 10;

    /// <summary>Throws a <see cref="PromptException"/> for a prompt over the limit.</summary>
    public static void Check(string prompt, string what = "The prompt")
    {
        if (prompt.Length > MaxCharacters)
            throw new PromptException($"{what} has {prompt.Length:N0} characters; the workbench takes at most {MaxCharacters:N0}.");
    }
}
