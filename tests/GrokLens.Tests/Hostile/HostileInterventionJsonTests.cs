using GrokLens.Interventions;

namespace GrokLens.Tests.Hostile;

/// <summary>
/// Wrong interventions JSON (experiments, --interventions files, dumps) is an error in the JSON's own words: which
/// entry, which field, what it must hold, and the valid types or fields; never .NET type names.
/// </summary>
public class HostileInterventionJsonTests
{
    private static string Refusal(string json)
    {
        var message = Assert.Throws<InterventionException>(() => InterventionJson.Deserialize(json)).Message;
        Assert.DoesNotContain("System.", message);
        Assert.DoesNotContain("GrokLens.", message);
        Assert.DoesNotContain("`1", message);
        Assert.DoesNotContain("discriminator", message);
        return message;
    }

    private const string AllTypes = "ablate_heads, ablate_expert, ban_expert, force_expert, set_top_k, renormalise_gates, " +
                                    "add_to_activation, scale_activation, patch_activation, patch_routing, patch_expert_outputs, router_bias";

    [Fact]
    public void AnUnknownTypeListsTheTypesAndSuggestsTheNearestOne() =>
        Assert.Equal($"intervention 2 has \"type\": \"ablate_head\", which is not an intervention type (did you mean \"ablate_heads\"?); " +
                     $"the types are: {AllTypes}.",
            Refusal("""[{"type": "set_top_k", "k": 1}, {"type": "ablate_head", "layers": [0], "heads": [1]}]"""));

    [Fact]
    public void AMissingTypeListsTheTypes() =>
        Assert.Equal($"intervention 1 has no \"type\" string; the types are: {AllTypes}.", Refusal("""[{"layer": 0, "expert": 1}]"""));

    [Fact]
    public void AnObjectInsteadOfAListSaysWhatIsExpected() =>
        Assert.StartsWith("the interventions must be a JSON list [ … ] of objects, each with a \"type\" (ablate_heads,",
            Refusal("""{"type": "ablate_heads", "layers": [0], "heads": [1]}"""));

    [Fact]
    public void AFieldOfTheWrongKindNamesTheFieldAndWhatItHolds() =>
        Assert.Equal("intervention 1 (ablate_heads): \"layers\" must be a list of integers.",
            Refusal("""[{"type": "ablate_heads", "layers": 1, "heads": [0]}]"""));

    [Fact]
    public void AWrongEnumValueListsTheValues() =>
        Assert.Equal("intervention 1 (ablate_heads): \"mode\" must be one of \"Zero\", \"Mean\" (or left out).",
            Refusal("""[{"type": "ablate_heads", "layers": [1], "heads": [0], "mode": "half"}]"""));

    [Fact]
    public void AMissingFieldListsTheFields() =>
        Assert.Equal("intervention 1 (ablate_expert) needs \"expert\" (an integer); its fields are: layer, expert, positions?, enabled?.",
            Refusal("""[{"type": "ablate_expert", "layer": 0}]"""));

    [Fact]
    public void AnUnknownFieldSuggestsTheNearestOne() =>
        Assert.Equal("intervention 1 (ablate_heads) has no field \"head\" (did you mean \"heads\"?); its fields are: layers, heads, mode?, positions?, enabled?.",
            Refusal("""[{"type": "ablate_heads", "layers": [1], "heads": [0], "head": 2}]"""));

    [Fact]
    public void ASyntaxErrorGivesItsPlace() =>
        Assert.Equal("the interventions are not valid JSON (line 2, position 11).", Refusal("[\n  {\"type\" \"ablate_heads\"}]"));

    [Fact]
    public void ValidInterventionsStillRoundTrip()
    {
        Intervention[] interventions =
        [
            new AblateHeads([1], [0, 2], AblationMode.Mean), new BanExpert(0, 3) { Enabled = false }, new SetTopK(1),
            new AddToActivation("blocks.0.hook_resid_post", [0.5f, -1f], 2.0, [1]),
        ];
        var json = InterventionJson.Serialize(interventions);
        Assert.Equal(json, InterventionJson.Serialize(InterventionJson.Deserialize(json)));
    }
}
