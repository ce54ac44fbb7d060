using GrokLens.Web.Models;
using GrokLens.Web.Views;

namespace GrokLens.Web.Services;

/// <summary>
/// One browser session's state (scoped to the Blazor circuit): the prompt, the sequence, the latest result and what
/// is selected. Every view reads the selection from here, so they all follow the same token, layer and head.
/// </summary>
public sealed class ExploreSession : IDisposable
{
    public string Prompt { get; set; } = "The quick brown fox jumps over the lazy dog because the dog was asleep.";
    public IReadOnlyList<int> TokenIds { get; private set; } = [];

    /// <summary>The prompt text that made <see cref="TokenIds"/> (the box may have been edited since); null for a dump.</summary>
    public string? RanPrompt { get; private set; }

    /// <summary>Position of the first generated token (= prompt length when nothing was generated).</summary>
    public int GeneratedFrom { get; private set; }

    public ExploreResult? Result { get; private set; }

    /// <summary>
    /// The model that made <see cref="Result"/> (null for a dump or no result): the histogram and a dump download run
    /// on this model, whatever the session or anyone else has loaded since.
    /// </summary>
    public IWorkbenchModel? Model { get; private set; }

    /// <summary>Counts finished runs; views mark themselves drawn with it so tests can wait for a specific run.</summary>
    public int RunNumber { get; private set; }

    public int SelectedToken { get; private set; }
    public int SelectedLayer { get; private set; }
    public int SelectedHead { get; private set; }
    public AttentionMode AttentionMode { get; set; } = AttentionMode.Probabilities;
    public double NearTieThreshold { get; set; } = WorkbenchOptions.DefaultNearTieThreshold;

    /// <summary>The dump the views show, when one was opened (null for a live run).</summary>
    public OpenedDump? Dump { get; private set; }

    public event Action? Changed;

    /// <summary>The session's sequence as the run of a dump download (with its prompt only when nothing was generated).</summary>
    public IReadOnlyList<DumpDownloadRun> DumpRuns =>
        Result is null ? [] : [new DumpDownloadRun("run0", TokenIds, GeneratedFrom == TokenIds.Count ? RanPrompt : null, [])];

    /// <summary>Shows an opened dump in the views (no model run); the session owns it from now on.</summary>
    public void SetDump(OpenedDump dump)
    {
        SetResult(null, dump.Run.TokenIds, dump.Run.TokenIds.Count, dump.Result); // disposes the previous dump
        Dump = dump;
        Changed?.Invoke();
    }

    public void Dispose()
    {
        Dump?.Dispose();
        Dump = null;
    }

    public void SetResult(IWorkbenchModel? model, IReadOnlyList<int> tokenIds, int generatedFrom, ExploreResult result, string? prompt = null)
    {
        Dispose(); // a live run replaces an opened dump
        Model = model;
        RanPrompt = prompt;
        TokenIds = tokenIds;
        GeneratedFrom = generatedFrom;
        Result = result;
        RunNumber++;
        SelectedToken = Math.Clamp(SelectedToken, 0, result.Length - 1);
        SelectedLayer = Math.Clamp(SelectedLayer, 0, result.Layers - 1);
        SelectedHead = Math.Clamp(SelectedHead, 0, result.Heads - 1);
        Changed?.Invoke();
    }

    public void Clear()
    {
        Dispose();
        Result = null;
        Model = null;
        RanPrompt = null;
        TokenIds = [];
        Changed?.Invoke();
    }

    public void Select(int? token = null, int? layer = null, int? head = null)
    {
        if (Result is null) return;
        if (token is { } t) SelectedToken = Math.Clamp(t, 0, Result.Length - 1);
        if (layer is { } l) SelectedLayer = Math.Clamp(l, 0, Result.Layers - 1);
        if (head is { } h) SelectedHead = Math.Clamp(h, 0, Result.Heads - 1);
        Changed?.Invoke();
    }
}
