using System.Text.RegularExpressions;

namespace GrokLens.Dumps;

/// <summary>Names and limits of the GrokLens activation dump format (docs/dump-format.md).</summary>
public static partial class DumpFormat
{
    /// <summary>The manifest's <c>format</c> value.</summary>
    public const string Name = "groklens-dump";

    /// <summary>
    /// The version this code writes and the highest it reads. Version 2 identifies the model's weights by a sampled
    /// fingerprint (<see cref="WeightsFingerprint"/>) instead of version 1's whole-file SHA-256; both are read.
    /// </summary>
    public const int Version = 2;

    public const string ManifestFileName = "manifest.json";

    /// <summary>Manifest <c>kind</c>: raw hook tensors per run.</summary>
    public const string ActivationsKind = "activations";

    /// <summary>Manifest <c>kind</c>: reductions over all runs (usage counts, per-neuron mean/max, routing statistics).</summary>
    public const string ReductionsKind = "reductions";

    /// <summary>Prefix of the folders zipped dumps are extracted to (in <see cref="DumpReadOptions.TemporaryRoot"/>).</summary>
    public const string ExtractionPrefix = "groklens-dump-";

    /// <summary>Default bound on the tensor bytes of one data file.</summary>
    public const long DefaultShardBytes = 1L << 30;

    /// <summary>A manifest larger than this is refused before parsing.</summary>
    public const long MaxManifestBytes = 64L << 20;

    /// <summary>Data file names: flat, no path separators or "..", so a manifest cannot point outside its dump.</summary>
    public static bool IsSafeFileName(string name) => SafeFileName().IsMatch(name);

    /// <summary>Run ids become tensor-name prefixes: letters, digits, '_', '-', '.', 1–64 characters.</summary>
    public static bool IsValidRunId(string id) => RunId().IsMatch(id);

    /// <summary>Data file <paramref name="number"/> (1-based): data-00001.safetensors, …</summary>
    public static string DataFileName(int number) => $"data-{number:D5}.safetensors";

    /// <summary>The tensor name of a hook: the hook name itself in a single-run dump, "run/hook" when runs share files.</summary>
    public static string TensorName(string runId, string hook, bool prefixRunIds) => prefixRunIds ? $"{runId}/{hook}" : hook;

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.safetensors$", RegexOptions.CultureInvariant)]
    private static partial Regex SafeFileName();

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex RunId();
}
