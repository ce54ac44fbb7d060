using System.Globalization;
using GrokLens.Analysis.Experts;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Training;

namespace GrokLens.Web.Experts;

/// <summary>A prompt set typed on the page: one prompt per line (token ids separated by spaces for a model without tokenizer).</summary>
public sealed class PromptSetText(string name, string text)
{
    public string Name { get; set; } = name;
    public string Text { get; set; } = text;

    /// <summary>The prompts: the non-blank lines.</summary>
    public IEnumerable<string> Lines() => Text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0);

    public static int CountLines(string text) => new PromptSetText("", text).Lines().Count();
}

/// <summary>A JSONL prompt file the user uploaded (the format <c>batch --prompts</c> reads), named after its file.</summary>
public sealed record PromptFile(string Name, string Jsonl);

/// <summary>
/// The corpus the user picked on the Experts page: typed prompt sets, uploaded prompt files and books of the corpus
/// package; each becomes one subset (domain) of the analysis.
/// </summary>
public sealed record CorpusRequest
{
    public IReadOnlyList<PromptSetText> PromptSets { get; init; } = [];
    public IReadOnlyList<PromptFile> PromptFiles { get; init; } = [];
    public IReadOnlyList<string> Books { get; init; } = [];
    public int WindowLength { get; init; } = 128;
    public int WindowsPerBook { get; init; } = 8;

    /// <summary>Encodes every subset with the model's tokenizer and checks every prompt against the model.</summary>
    public ExpertCorpus Build(IModelEngine model, string? corpusFolder)
    {
        var subsets = new List<PromptSubset>();
        foreach (var set in PromptSets.Where(s => !string.IsNullOrWhiteSpace(s.Text)))
            subsets.Add(new PromptSubset(Named(set.Name), set.Lines()
                .Select((line, i) => Prompt(model, line, $"prompt set '{set.Name}', line {i + 1}")).ToList()));
        foreach (var file in PromptFiles)
            subsets.Add(new PromptSubset(Named(file.Name), FilePrompts(model, file)));
        if (Books.Count > 0)
        {
            if (corpusFolder is null || !Directory.Exists(corpusFolder))
                throw new ArgumentException("The corpus package is not installed on this server (see docs/training.md): pick prompt sets instead.");
            subsets.AddRange(ExpertCorpus.FromBooks(model, CorpusText.Load(corpusFolder, Books), WindowLength, WindowsPerBook).Subsets);
        }
        if (subsets.Count == 0) throw new ArgumentException("The corpus is empty: type a prompt set, upload a prompt file or pick a book.");
        return new ExpertCorpus(subsets).CheckedFor(model);
    }

    private static string Named(string name) =>
        string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("Every prompt set needs a name.") : name.Trim();

    private static IReadOnlyList<int> Prompt(IModelEngine model, string line, string where)
    {
        if (model.Tokenizer is not null) return model.Encode(line);
        var ids = new List<int>();
        foreach (var part in line.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries))
            ids.Add(int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id)
                ? id
                : throw new ArgumentException($"{where}: model '{model.Name}' has no tokenizer, so type token ids separated by spaces ('{part}' is not one)."));
        return ids;
    }

    private static IReadOnlyList<IReadOnlyList<int>> FilePrompts(IModelEngine model, PromptFile file)
    {
        var path = Path.Combine(Path.GetTempPath(), $"groklens-prompts-{Guid.NewGuid():N}.jsonl");
        try
        {
            File.WriteAllText(path, file.Jsonl);
            return BatchPrompts.ReadJsonl(path).Select(p => p.TokenIds ?? (model.Tokenizer is null
                    ? throw new ArgumentException($"{file.Name}, prompt '{p.Id}': model '{model.Name}' has no tokenizer; give token_ids.")
                    : model.Encode(p.Prompt!)))
                .ToList();
        }
        catch (FormatException e)
        {
            throw new ArgumentException(e.Message.Replace(path, file.Name, StringComparison.Ordinal), e);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
