using GrokLens.Model;

namespace GrokLens.Tools;

/// <summary>Configs of the synthetic checkpoints the benches write.</summary>
public static class SyntheticModels
{
    /// <summary>Full-width Grok-1 layers (SPEC §1) with the vocabulary cut to 1,024: an embedding of 25 MB instead of 3.2 GB.</summary>
    public static GrokConfig Grok1Layers(int layers) => GrokConfig.Grok1 with { NumLayers = layers, VocabSize = 1024 };
}
