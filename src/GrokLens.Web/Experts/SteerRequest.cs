using GrokLens.Analysis.Experts;

namespace GrokLens.Web.Experts;

/// <summary>What the steering view asks for: bias the <paramref name="Count"/> top-scored experts and generate from the prompt.</summary>
public sealed record SteerRequest(SteeringScoresResult Scores, int Count, double Strength, string Prompt, int Tokens, int Seed);
