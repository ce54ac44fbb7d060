namespace GrokLens.Web.Compare;

/// <summary>
/// What the Compare page runs: the prompt (baseline = no interventions, modified = the enabled ones), the source
/// prompt patching interventions read, an optional target token (and second one for a logit difference), and the
/// generation both runs continue with the same seed.
/// </summary>
public sealed record CompareRequest(string Prompt, IReadOnlyList<InterventionDraft> Drafts, string? SourcePrompt = null,
    string? Target = null, string? OtherTarget = null, int GenerateTokens = 8, int Seed = 1, double NearTieThreshold = GrokLens.Web.Services.WorkbenchOptions.DefaultNearTieThreshold);
