namespace GrokLens.Web.Compare;

/// <summary>The interventions the Compare page's menu offers.</summary>
public enum InterventionKind
{
    AblateHeads,
    AblateExpert,
    BanExpert,
    ForceExpert,
    SetTopK,
    RenormaliseGates,
    Steering,
    PatchActivation,
    PatchRouting,
    /// <summary>A bias on one expert's router logit (SteerMoE); its size is the draft's coefficient.</summary>
    RouterBias,
    /// <summary>Loaded from JSON with no typed form (e.g. a scale or an explicit vector): kept as it is.</summary>
    Loaded,
}
