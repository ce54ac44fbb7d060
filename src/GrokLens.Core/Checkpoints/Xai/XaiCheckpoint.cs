using static TorchSharp.torch;

namespace GrokLens.Checkpoints.Xai;

/// <summary>
/// xAI's raw Grok-1 release: a <c>ckpt-0</c> folder of <c>tensor{i:05d}_000</c> pickles, one per parameter, in the
/// order of SPEC §4.2 (embedding, final norm, then 12 files per layer with layers sorted as strings: 0, 1, 10, 11, …).
/// JAX stores matrices [in, out]; they are returned in PyTorch layout [out, in]. Files are mapped when read.
/// </summary>
public sealed unsafe class XaiCheckpoint
{
    public const string FolderName = "ckpt-0";
    public const int FilesPerLayer = 12;

    private XaiCheckpoint(string folder, int numLayers)
    {
        Folder = folder;
        NumLayers = numLayers;
    }

    public string Folder { get; }
    public int NumLayers { get; }

    public static string FileName(int index) => $"tensor{index:D5}_000";

    /// <summary>True if <paramref name="path"/> is a <c>ckpt-0</c> folder or holds one.</summary>
    public static bool IsRawCheckpoint(string path) => ResolveFolder(path) is not null;

    private static string? ResolveFolder(string path)
    {
        if (!Directory.Exists(path)) return null;
        if (File.Exists(Path.Combine(path, FileName(0)))) return Path.GetFullPath(path);
        var inner = Path.Combine(path, FolderName);
        return File.Exists(Path.Combine(inner, FileName(0))) ? Path.GetFullPath(inner) : null;
    }

    /// <summary>The tensor files of a raw release (<see cref="FileName"/> 0, 1, … up to the first missing one), full paths in file order.</summary>
    public static IReadOnlyList<string> TensorFiles(string path)
    {
        var folder = ResolveFolder(path) ?? throw new CheckpointFormatException(path, null, $"no {FolderName}/{FileName(0)} here");
        var files = new List<string>();
        for (int i = 0; File.Exists(Path.Combine(folder, FileName(i))); i++) files.Add(Path.Combine(folder, FileName(i)));
        return files;
    }

    /// <summary>Opens the folder and checks that exactly 2 + 12·layers files are present.</summary>
    public static XaiCheckpoint Open(string path, int numLayers)
    {
        var folder = ResolveFolder(path) ?? throw new CheckpointFormatException(path, null, $"no {FolderName}/{FileName(0)} here");
        int expected = 2 + FilesPerLayer * numLayers;
        for (int i = 0; i < expected; i++)
            if (!File.Exists(Path.Combine(folder, FileName(i))))
                throw new CheckpointFormatException(folder, FileName(i), $"missing: {numLayers} layers need {expected} tensor files");
        if (File.Exists(Path.Combine(folder, FileName(expected))))
            throw new CheckpointFormatException(folder, FileName(expected),
                $"more files than {numLayers} layers account for ({expected}); does the config match the checkpoint?");
        return new XaiCheckpoint(folder, numLayers);
    }

    /// <summary>First file of a layer: 2 + 12·(rank of the layer's decimal string among all layers' strings).</summary>
    public static int LayerBlockStart(int layer, int numLayers)
    {
        var key = layer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        int rank = Enumerable.Range(0, numLayers).Count(l => string.CompareOrdinal(l.ToString(System.Globalization.CultureInfo.InvariantCulture), key) < 0);
        return 2 + FilesPerLayer * rank;
    }

    /// <summary>
    /// Reads file <paramref name="index"/>: float arrays as float32 (matrices transposed to [out, in] when
    /// <paramref name="transposed"/>), QuantizedWeight8bit as int8 + scales in [out, in] layout.
    /// </summary>
    public XaiLoaded Load(int index, bool transposed)
    {
        var path = Path.Combine(Folder, FileName(index));
        using var file = MappedFile.Open(path);
        var stored = XaiTensorFile.Read(file);
        if (stored.Scales is null)
        {
            using var floats = ReadArray(file, stored.Array);
            using var widened = floats.to_type(ScalarType.Float32, copy: true);
            return new XaiLoaded(transposed ? TransposedCopy(widened) : widened.alias(), null, path);
        }
        return new XaiLoaded(null, ToQuantized(file, stored.Array, stored.Scales), path);
    }

    private static QuantizedWeight ToQuantized(MappedFile file, XaiArray weight, XaiArray scales)
    {
        var w = weight.Shape;
        var s = scales.Shape;
        if (w.Length < 2 || s.Length != w.Length || !w[..^2].SequenceEqual(s[..^2]) || s[^1] != w[^1] || s[^2] == 0 || w[^2] % s[^2] != 0)
            throw new CheckpointFormatException(file.Path, null,
                $"scales [{string.Join(", ", s)}] do not fit weight [{string.Join(", ", w)}] (expected [..., S, C] with S dividing the rows)");
        using var values = ReadArray(file, weight);
        using var rawScales = ReadArray(file, scales);
        // The bytes are copied: unmap now so the file's pages (resident while mapped) do not add to the transpose's peak.
        file.Dispose();
        // JAX [.., R(in), C(out)] with one scale per block of R/S input rows → PyTorch [.., C, R] with blocks along the inputs.
        var canonicalValues = TransposedCopy(values);
        using var floatScales = rawScales.to_type(ScalarType.Float32);
        var canonicalScales = TransposedCopy(floatScales);
        return new QuantizedWeight(canonicalValues, canonicalScales, (int)(w[^2] / s[^2]), roundToBFloat16: true);
    }

    /// <summary>
    /// The last two dimensions swapped, contiguous. The transposed view is disposed at once: left to the finalizer it
    /// would keep the source's storage (1.6 GB for a Grok-1 expert matrix) alive.
    /// </summary>
    private static Tensor TransposedCopy(Tensor source)
    {
        using var view = source.transpose(-1, -2);
        return view.contiguous();
    }

    private static Tensor ReadArray(MappedFile file, XaiArray array)
    {
        var dtype = array.DType switch
        {
            XaiDType.Float32 => ScalarType.Float32,
            XaiDType.Float16 => ScalarType.Float16,
            XaiDType.BFloat16 => ScalarType.BFloat16,
            XaiDType.Int8 => ScalarType.Int8,
            _ => throw new CheckpointFormatException(file.Path, null, $"plain arrays of {array.DType} are not expected here"),
        };
        var flat = empty(array.ElementCount, dtype: dtype);
        try
        {
            TensorBytes.CopyInto(flat, file.Start + array.Offset, array.Length);
            return flat.reshape(array.Shape);
        }
        finally
        {
            flat.Dispose();
        }
    }
}

/// <summary>A raw tensor read in PyTorch layout: either float32 or int8 with scales.</summary>
public sealed record XaiLoaded(Tensor? Float, QuantizedWeight? Quantized, string Path);
