namespace GrokLens.Model;

/// <summary>
/// Sizes and constants of a Grok model (SPEC §1 for Grok-1, §6.2 for Grok-2). Every number the forward pass uses comes
/// from here; the Grok-2 features (residual MoE, router and final soft-caps, attention temperature, untied head) are
/// switched on by their settings, so one code path runs both.
/// </summary>
public sealed record GrokConfig
{
    public string ModelType { get; init; } = "grok-1";
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int NumLayers { get; init; }
    public int NumHeads { get; init; }
    public int NumKvHeads { get; init; }
    public int HeadDim { get; init; }
    public int NumExperts { get; init; }
    public int TopK { get; init; }
    /// <summary>Width F of each expert (moe_intermediate_size).</summary>
    public int ExpertSize { get; init; }
    public int MaxPositions { get; init; }
    public double RopeTheta { get; init; } = 10000;
    public double RmsNormEps { get; init; } = 1e-5;
    public double EmbeddingMultiplier { get; init; } = 78.38367176906169;
    public double OutputMultiplier { get; init; } = 0.5773502691896257;
    public double AttnOutputMultiplier { get; init; } = 0.08838834764831845;
    /// <summary>Attention logits become cap·tanh(x/cap); 0 turns the cap off.</summary>
    public double AttnLogitSoftcap { get; init; } = 30.0;
    public bool TieWordEmbeddings { get; init; } = true;
    /// <summary>Keys whose token id equals this are masked out of attention, as xAI's model.py does for id 0.</summary>
    public int PadTokenId { get; init; }

    /// <summary>Grok-2's residual MoE: a dense gated MLP of width <see cref="DenseSize"/> beside the experts, (mlp + moe)/√2.</summary>
    public bool ResidualMoe { get; init; }
    /// <summary>Width of the dense MLP (intermediate_size) when <see cref="ResidualMoe"/>; 0 otherwise.</summary>
    public int DenseSize { get; init; }
    /// <summary>Router logits become cap·tanh(r/cap) before the softmax (Grok-2: 30); 0 turns it off (Grok-1).</summary>
    public double RouterLogitSoftcap { get; init; }
    /// <summary>Output logits become cap·tanh(z/cap) after the output multiplier (Grok-2: 50); 0 turns it off (Grok-1).</summary>
    public double FinalLogitSoftcap { get; init; }
    /// <summary>
    /// Attention temperature length L (Grok-2: 1024): capped scores of a query at position p &gt; L are multiplied by
    /// log₂(p)/log₂(L); 0 turns it off.
    /// </summary>
    public int AttnTemperatureLen { get; init; }

    public int QueryHeadsPerKvHead => NumHeads / NumKvHeads;

    /// <summary>"Grok-2" for a residual-MoE model, else "Grok-1": the architecture family the settings describe.</summary>
    public string Architecture => ResidualMoe ? "Grok-2" : "Grok-1";

    /// <summary>Grok-1 as released by xAI (SPEC §1).</summary>
    public static GrokConfig Grok1 { get; } = new()
    {
        ModelType = "grok-1",
        VocabSize = 131072,
        HiddenSize = 6144,
        NumLayers = 64,
        NumHeads = 48,
        NumKvHeads = 8,
        HeadDim = 128,
        NumExperts = 8,
        TopK = 2,
        ExpertSize = 32768,
        MaxPositions = 8192,
    };

    /// <summary>Grok-2 as released by xAI (SPEC §6.2; third-party copies of its config.json).</summary>
    public static GrokConfig Grok2 { get; } = new()
    {
        ModelType = "git",
        VocabSize = 131072,
        HiddenSize = 8192,
        NumLayers = 64,
        NumHeads = 64,
        NumKvHeads = 8,
        HeadDim = 128,
        NumExperts = 8,
        TopK = 2,
        ExpertSize = 16384,
        MaxPositions = 131072,
        RopeTheta = 208533496,
        EmbeddingMultiplier = 90.50966799187809,
        OutputMultiplier = 0.5,
        AttnOutputMultiplier = 1 / Math.Sqrt(128),
        TieWordEmbeddings = false,
        ResidualMoe = true,
        DenseSize = 32768,
        RouterLogitSoftcap = 30,
        FinalLogitSoftcap = 50,
        AttnTemperatureLen = 1024,
    };

    /// <summary>Number of stored parameters (a tied embedding counted once).</summary>
    public long ParameterCount
    {
        get
        {
            long d = HiddenSize, q = (long)NumHeads * HeadDim, kv = (long)NumKvHeads * HeadDim;
            long attention = d * q + 2 * d * kv + q * d;
            long moe = 3L * NumExperts * d * ExpertSize + (long)NumExperts * d;
            long dense = ResidualMoe ? 3L * d * DenseSize : 0;
            long perLayer = attention + moe + dense + 4 * d;
            long embeddings = (long)VocabSize * d * (TieWordEmbeddings ? 1 : 2);
            return embeddings + NumLayers * perLayer + d;
        }
    }

    /// <summary>Parameters touched per token: attention, router, dense MLP and only the top-k experts.</summary>
    public long ActiveParameterCount
    {
        get
        {
            long inactiveExperts = NumExperts - TopK;
            return ParameterCount - NumLayers * inactiveExperts * 3L * HiddenSize * ExpertSize;
        }
    }

    /// <summary>Largest sizes accepted: far above any Grok, low enough that no size product overflows or exhausts memory before a checkpoint is read.</summary>
    public const int MaxLayers = 1024, MaxHeads = 1024, MaxExperts = 1024, MaxHeadDim = 4096, MaxHidden = 1 << 17,
        MaxWidth = 1 << 20, MaxVocab = 1 << 22, MaxContext = 1 << 22;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public GrokConfig Validated()
    {
        Range(VocabSize, MaxVocab, "vocab_size");
        Range(HiddenSize, MaxHidden, "hidden_size");
        Range(NumLayers, MaxLayers, "num_hidden_layers");
        Range(NumHeads, MaxHeads, "num_attention_heads");
        Range(NumKvHeads, MaxHeads, "num_key_value_heads");
        Require(NumHeads % NumKvHeads == 0,
            $"num_attention_heads ({NumHeads}) must be a multiple of num_key_value_heads ({NumKvHeads})");
        Range(HeadDim, MaxHeadDim, "head_dim");
        Require(HeadDim % 2 == 0, $"head_dim ({HeadDim}) must be even (RoPE rotates halves)");
        Range(NumExperts, MaxExperts, "num_local_experts");
        Require(TopK > 0 && TopK <= NumExperts, $"num_experts_per_tok ({TopK}) must be between 1 and {NumExperts}");
        Range(ExpertSize, MaxWidth, "moe_intermediate_size");
        Range(MaxPositions, MaxContext, "max_position_embeddings");
        if (ResidualMoe) Range(DenseSize, MaxWidth, "intermediate_size (the dense MLP of residual_moe)");
        else Require(DenseSize == 0, "intermediate_size gives a dense MLP width, but residual_moe is off");
        Require(RmsNormEps > 0 && double.IsFinite(RmsNormEps), "rms_norm_eps must be positive");
        Require(RopeTheta > 0 && double.IsFinite(RopeTheta), "rope_theta must be positive");
        foreach (var (value, key) in new[]
                 {
                     (EmbeddingMultiplier, "embedding_multiplier_scale"), (OutputMultiplier, "output_multiplier_scale"),
                     (AttnOutputMultiplier, "attn_output_multiplier"),
                 })
            Require(double.IsFinite(value) && value != 0, $"{key} must be a finite non-zero number");
        foreach (var (value, key) in new[]
                 {
                     (AttnLogitSoftcap, "attn_logit_softcapping"), (RouterLogitSoftcap, "router_logit_softcapping"),
                     (FinalLogitSoftcap, "final_logit_softcapping"),
                 })
            Require(value >= 0 && double.IsFinite(value), $"{key} must not be negative (0 turns the cap off)");
        Require(AttnTemperatureLen >= 0 && AttnTemperatureLen != 1, "attn_temperature_len must be 0 (off) or at least 2");
        Require(PadTokenId >= 0 && PadTokenId < VocabSize, $"pad_token_id ({PadTokenId}) must be inside the vocabulary");
        return this;

        static void Range(int value, int max, string key) =>
            Require(value > 0 && value <= max, value <= 0 ? $"{key} must be positive" : $"{key} {value} is beyond what GrokLens supports (at most {max})");

        static void Require(bool condition, string message)
        {
            if (!condition) throw new ArgumentException("Invalid model config: " + message);
        }
    }

    /// <summary>Reads a Hugging Face style config.json (Grok1ForCausalLM keys; see <see cref="GrokConfigJson"/>).</summary>
    public static GrokConfig FromJsonFile(string path) => GrokConfigJson.ReadFile(path);

    public static GrokConfig FromJson(string json) => GrokConfigJson.Read(json);

    public string ToJson() => GrokConfigJson.Write(this);
}
