namespace GrokLens.Web.Services;

/// <summary>Settings of the workbench (section "GrokLens" of the configuration).</summary>
public sealed class WorkbenchOptions
{
    public const string Section = "GrokLens";

    /// <summary>The only folder models may be loaded from; defaults to models/ at the repository root.</summary>
    public string ModelsFolder { get; set; } = "";

    /// <summary>
    /// Address of a GrokLens cluster whose models the picker offers as "name@cluster" ("host:port" of a silo's gateway, or
    /// "redis://host:port"; docs/cluster.md); empty: models of the models folder only.
    /// </summary>
    public string Cluster { get; set; } = "";

    /// <summary>Folder name (inside <see cref="ModelsFolder"/>), or a cluster model ("name@cluster"), loaded at start.</summary>
    public string DefaultModel { get; set; } = "grok-tiny";

    /// <summary>
    /// Memory the resident models' weights may take together, e.g. "8GiB" (binary units); empty: half of the memory this
    /// process may use. Loading a model unloads the least recently used idle ones to stay within it.
    /// </summary>
    public string ModelMemoryBudget { get; set; } = "";

    /// <summary>How many models may compute at the same time (0: cores ÷ libtorch threads, at least 1). One model always runs one pass at a time.</summary>
    public int ComputeSlots { get; set; }

    /// <summary>
    /// The default near-tie margin, measured (NearTieThresholdTests, docs/workbench.md): on grok-tiny it marks 8 % of
    /// router cells, among them every choice that noise of bf16's precision on the router logits flips (0.05 marked 55 %).
    /// The library's and the CLI's default too.
    /// </summary>
    public const double DefaultNearTieThreshold = GrokLens.Analysis.ComparisonOptions.DefaultNearTieThreshold;

    /// <summary>Router margin (k-th minus next expert probability) under which a choice counts as a near-tie.</summary>
    public double NearTieThreshold { get; set; } = DefaultNearTieThreshold;

    /// <summary>The only folder dumps may be opened from (besides uploads); defaults to dumps/ at the repository root.</summary>
    public string DumpsFolder { get; set; } = "";

    /// <summary>Largest dump upload accepted, in bytes (also the limit on a zip's extracted size).</summary>
    public long MaxDumpUploadBytes { get; set; } = 200L << 20;

    /// <summary>
    /// Origins (scheme://host:port) besides the server's own whose pages may use the workbench, e.g. a reverse proxy's
    /// public address. Host names the server answers to are set by the standard <c>AllowedHosts</c> setting.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>The only folder Compare-page experiments are saved to and loaded from; defaults to experiments/ at the repository root.</summary>
    public string ExperimentsFolder { get; set; } = "";

    /// <summary>Reads <see cref="ModelMemoryBudget"/> ("8GiB", "512MiB", bytes), saying which setting is wrong.</summary>
    public static long ParseBudget(string text)
    {
        try
        {
            return Formatting.ByteSize.Parse(text);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"Setting {Section}:{nameof(ModelMemoryBudget)}: {e.Message}", e);
        }
    }
}
