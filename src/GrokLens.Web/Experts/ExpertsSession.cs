using GrokLens.Analysis.Experts;

namespace GrokLens.Web.Experts;

/// <summary>
/// One browser session's Experts page (scoped to its circuit): the corpus being edited, the analysis shown, the selected
/// expert and the work in progress, so leaving the page and coming back keeps all of it.
/// </summary>
public sealed class ExpertsSession
{
    public List<PromptSetText> PromptSets { get; } =
    [
        new("stories", "Once upon a time there was a little girl who lived in a village near the forest.\nThe old man walked slowly down the road to the sea.\nAlice was beginning to get very tired of sitting by her sister on the bank."),
        new("verse", "To be, or not to be, that is the question.\nShall I compare thee to a summer's day?\nIn the beginning God created the heaven and the earth."),
    ];

    public List<PromptFile> PromptFiles { get; } = [];
    public HashSet<string> Books { get; } = new(StringComparer.Ordinal);
    public int WindowLength { get; set; } = 64;
    public int WindowsPerBook { get; set; } = 8;

    public ExpertAnalysis? Analysis { get; private set; }

    /// <summary>Counts analyses shown, so views redraw when a new one arrives.</summary>
    public int Version { get; private set; }

    public string Subset { get; set; } = ExpertAnalysis.AllSubsets;
    public ExpertId Selected { get; set; }

    /// <summary>Steering's two prompt sets (subset names).</summary>
    public string? SteerA { get; set; }
    public string? SteerB { get; set; }

    public ExpertProgress? Progress { get; set; }
    public CancellationTokenSource? Running { get; set; }
    public bool Busy => Running is not null;

    public CorpusRequest Request() => new()
    {
        PromptSets = PromptSets.ToList(),
        PromptFiles = PromptFiles.ToList(),
        Books = Books.Order(StringComparer.Ordinal).ToList(),
        WindowLength = WindowLength,
        WindowsPerBook = WindowsPerBook,
    };

    public void Show(ExpertAnalysis analysis)
    {
        Analysis = analysis;
        Version++;
        Subset = analysis.SubsetNames[^1];
        var names = analysis.Corpus.Subsets.Select(s => s.Name).ToList();
        SteerA = names[0];
        SteerB = names.Count > 1 ? names[1] : names[0];
        Selected = new ExpertId(0, 0);
    }

    /// <summary>Marks a change of what is measured (audit, lens, steering) so views redraw.</summary>
    public void Touch() => Version++;
}
