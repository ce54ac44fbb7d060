using System.Globalization;
using GrokLens.Interventions;

namespace GrokLens.Web.Compare;

/// <summary>
/// One intervention of the experiment editor as typed by the user: targets are text fields (lists like "0, 3"),
/// turned into an <see cref="Intervention"/> by <see cref="Build"/>, which explains what it cannot read.
/// </summary>
public sealed class InterventionDraft
{
    public InterventionDraft(InterventionKind kind) => Kind = kind;

    public InterventionKind Kind { get; }
    public bool Enabled { get; set; } = true;
    public string Layers { get; set; } = "0";
    public string Heads { get; set; } = "0";
    public string Expert { get; set; } = "0";
    public string Positions { get; set; } = "";
    public string K { get; set; } = "1";
    public string Slot { get; set; } = "0";
    public string Hook { get; set; } = "blocks.0.hook_resid_post";
    public double Coefficient { get; set; } = 4;
    public string PromptA { get; set; } = "";
    public string PromptB { get; set; } = "";
    public AblationMode Mode { get; set; } = AblationMode.Zero;
    public RoutingPart Part { get; set; } = RoutingPart.IndicesAndGates;

    /// <summary>The steering vector once built from the two prompts, or the intervention of a <see cref="InterventionKind.Loaded"/> draft.</summary>
    public float[]? Vector { get; set; }

    /// <summary>The model <see cref="Vector"/> was computed on: another model computes it again from the prompts.</summary>
    public GrokLens.Web.Models.ModelIdentity? VectorModel { get; set; }
    public Intervention? Fixed { get; set; }

    /// <summary>The typed fields each kind has, by name (the editor's inputs and the saved experiment's keys).</summary>
    public static IReadOnlyList<string> FieldsOf(InterventionKind kind) => kind switch
    {
        InterventionKind.AblateHeads => ["layers", "heads", "positions"],
        InterventionKind.AblateExpert or InterventionKind.BanExpert => ["layers", "expert", "positions"],
        InterventionKind.ForceExpert => ["layers", "expert", "positions", "slot"],
        InterventionKind.SetTopK => ["k", "layers"],
        InterventionKind.RenormaliseGates => ["layers"],
        InterventionKind.Steering => ["prompt_a", "prompt_b", "hook", "positions"],
        InterventionKind.PatchActivation => ["hook", "heads", "positions"],
        InterventionKind.PatchRouting => ["layers", "positions"],
        InterventionKind.RouterBias => ["layers", "expert", "positions"],
        _ => [],
    };

    /// <summary>A typed field by name; a changed steering field drops the vector built from the old ones.</summary>
    public string this[string field]
    {
        get => field switch
        {
            "layers" => Layers, "heads" => Heads, "expert" => Expert, "positions" => Positions, "k" => K, "slot" => Slot,
            "hook" => Hook, "prompt_a" => PromptA, "prompt_b" => PromptB,
            _ => throw new ArgumentException($"no field '{field}'"),
        };
        set
        {
            switch (field)
            {
                case "layers": Layers = value; break;
                case "heads": Heads = value; break;
                case "expert": Expert = value; break;
                case "positions": Positions = value; break;
                case "k": K = value; break;
                case "slot": Slot = value; break;
                case "hook": Hook = value; break;
                case "prompt_a": PromptA = value; break;
                case "prompt_b": PromptB = value; break;
                default: throw new ArgumentException($"no field '{field}'");
            }
            if (Kind == InterventionKind.Steering) Vector = null;
        }
    }

    /// <summary>A copy with the same fields (the vector and a loaded intervention are immutable, so shared).</summary>
    public InterventionDraft Clone() => (InterventionDraft)MemberwiseClone();

    /// <summary>Whether this kind reads the source (clean) prompt's run.</summary>
    public bool NeedsSource => Kind is InterventionKind.PatchActivation or InterventionKind.PatchRouting
                               || Fixed is PatchExpertOutputs;

    /// <summary>
    /// The intervention; a steering draft without its vector yet gets <paramref name="placeholderWidth"/> zeros so it
    /// can be validated before the model computes the vector.
    /// </summary>
    public Intervention Build(int placeholderWidth = 1)
    {
        Intervention built = Kind switch
        {
            InterventionKind.AblateHeads => new AblateHeads(List(Layers, "layers")!, List(Heads, "heads")!, Mode, Optional(Positions)),
            InterventionKind.AblateExpert => new AblateExpert(Single(Layers, "layer"), Single(Expert, "expert"), Optional(Positions)),
            InterventionKind.BanExpert => new BanExpert(Single(Layers, "layer"), Single(Expert, "expert"), Optional(Positions)),
            InterventionKind.RouterBias => new RouterBias(Single(Layers, "layer"), Single(Expert, "expert"), Coefficient, Optional(Positions)),
            InterventionKind.ForceExpert => new ForceExpert(Single(Layers, "layer"), Single(Expert, "expert"),
                List(Positions, "positions")!, Single(Slot, "slot")),
            InterventionKind.SetTopK => new SetTopK(Single(K, "k"), Optional(Layers)),
            InterventionKind.RenormaliseGates => new RenormaliseGates(Optional(Layers)),
            InterventionKind.Steering => new AddToActivation(Hook.Trim(), Vector ?? new float[placeholderWidth], Coefficient, Optional(Positions)),
            InterventionKind.PatchActivation => new PatchActivation(Hook.Trim(), Optional(Positions), Optional(Heads)),
            InterventionKind.PatchRouting => new PatchRouting(Optional(Layers), Part, Optional(Positions)),
            _ => Fixed ?? throw new InterventionException("this intervention has nothing to run."),
        };
        return built with { Enabled = Enabled };
    }

    /// <summary>One readable line; for steering the prompts the vector comes from.</summary>
    public string Describe()
    {
        try
        {
            if (Kind == InterventionKind.Steering)
                return $"steer: add {Coefficient:0.###} × (mean of “{PromptA}” − mean of “{PromptB}”) to {Hook.Trim()} " +
                       (Optional(Positions) is { } p ? $"at positions {string.Join(", ", p)}" : "at all positions");
            return Build().Describe();
        }
        catch (InterventionException e)
        {
            return $"{Kind}: {e.Message}";
        }
    }

    /// <summary>A draft showing a saved intervention (typed fields where the kind has a form).</summary>
    public static InterventionDraft From(Intervention intervention)
    {
        static string Text(IReadOnlyList<int>? values) => values is null ? "" : string.Join(", ", values);
        var draft = intervention switch
        {
            AblateHeads a => new InterventionDraft(InterventionKind.AblateHeads) { Layers = Text(a.Layers), Heads = Text(a.Heads), Mode = a.Mode, Positions = Text(a.Positions) },
            AblateExpert a => new InterventionDraft(InterventionKind.AblateExpert) { Layers = $"{a.Layer}", Expert = $"{a.Expert}", Positions = Text(a.Positions) },
            BanExpert b => new InterventionDraft(InterventionKind.BanExpert) { Layers = $"{b.Layer}", Expert = $"{b.Expert}", Positions = Text(b.Positions) },
            RouterBias r => new InterventionDraft(InterventionKind.RouterBias) { Layers = $"{r.Layer}", Expert = $"{r.Expert}", Coefficient = r.Bias, Positions = Text(r.Positions) },
            ForceExpert f => new InterventionDraft(InterventionKind.ForceExpert) { Layers = $"{f.Layer}", Expert = $"{f.Expert}", Positions = Text(f.Positions), Slot = $"{f.Slot}" },
            SetTopK k => new InterventionDraft(InterventionKind.SetTopK) { K = $"{k.K}", Layers = Text(k.Layers) },
            RenormaliseGates r => new InterventionDraft(InterventionKind.RenormaliseGates) { Layers = Text(r.Layers) },
            PatchActivation p => new InterventionDraft(InterventionKind.PatchActivation) { Hook = p.Hook, Positions = Text(p.Positions), Heads = Text(p.Heads) },
            PatchRouting r => new InterventionDraft(InterventionKind.PatchRouting) { Layers = Text(r.Layers), Part = r.Part, Positions = Text(r.Positions) },
            _ => new InterventionDraft(InterventionKind.Loaded) { Fixed = intervention },
        };
        draft.Enabled = intervention.Enabled;
        return draft;
    }

    private static int Single(string text, string field)
    {
        var values = List(text, field)!;
        if (values.Count != 1) throw new InterventionException($"{field}: type exactly one whole number.");
        return values[0];
    }

    private static IReadOnlyList<int>? Optional(string text) => string.IsNullOrWhiteSpace(text) ? null : List(text, "list");

    private static IReadOnlyList<int>? List(string text, string field)
    {
        var parts = text.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries);
        var values = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                throw new InterventionException($"{field}: '{part}' is not a whole number.");
            values.Add(value);
        }
        return values;
    }
}
