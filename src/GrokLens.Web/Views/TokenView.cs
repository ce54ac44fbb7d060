namespace GrokLens.Web.Views;

/// <summary>One token of the sequence as the UI shows it.</summary>
/// <param name="Position">Position in the sequence.</param>
/// <param name="Id">Token id.</param>
/// <param name="Display">The Grok-1 piece made visible (▁ for a leading space, ↵ for newline, byte pieces as &lt;0x..&gt;).</param>
/// <param name="Label">Axis label, unique within the sequence ("the·3" when "the" occurs more than once).</param>
/// <param name="Generated">True for tokens produced by generation rather than typed.</param>
public sealed record TokenView(int Position, int Id, string Display, string Label, bool Generated);
