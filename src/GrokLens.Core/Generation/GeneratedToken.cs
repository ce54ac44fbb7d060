namespace GrokLens.Generation;

/// <summary>One generated token: id, absolute position, the probability it was drawn with and its decoded text.</summary>
public readonly record struct GeneratedToken(int Id, int Position, double Probability, string? Text);
