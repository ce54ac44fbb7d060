namespace GrokLens.Hooks;

/// <summary>A hook name or pattern that matches no hook point of the model.</summary>
public sealed class UnknownHookException(string message, IReadOnlyList<string> suggestions) : ArgumentException(message)
{
    public IReadOnlyList<string> Suggestions { get; } = suggestions;
}
