namespace GrokLens.Web.Services;

/// <summary>Settings of the workbench (section "GrokLens" of the configuration).</summary>
public sealed class WorkbenchOptions
{
    public const string Section = "GrokLens";

    /// <summary>The only folder models may be loaded from; defaults to models/ at the repository root.</summary>
    public string ModelsFolder { get; set; } = "";

    /// <summary>Folder name (inside <see cref="ModelsFolder"/>) loaded at start.</summary>
    public string DefaultModel { get; set; } = "grok-tiny";

    /// <summary>Router margin (k-th minus next expert probability) under which a choice counts as a near-tie.</summary>
    public double NearTieThreshold { get; set; } = 0.05;

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
}
