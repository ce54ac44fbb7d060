using GrokLens.Analysis;
using GrokLens.Interventions;
using GrokLens.Web.Models;
using GrokLens.Web.Services;

namespace GrokLens.Web.Compare;

/// <summary>
/// The Compare page's state and actions for one session (scoped to its circuit): the experiment being edited, the
/// comparison shown, saving and loading, the patching sweep and the two dumps. The page only draws this and forwards
/// clicks, so tests drive the page's behaviour here without a browser, as <see cref="ExploreSession"/> does for Explore.
/// </summary>
public sealed class CompareSession(CompareService comparer, ExperimentStore store, SessionModel model) : IDisposable
{
    private CancellationTokenSource? sweepCancellation;

    public SessionModel SessionModel { get; } = model;

    public string Prompt { get; set; } = "the cat sat on the mat and the dog sat on the";
    public string? SourcePrompt { get; set; }
    public string? Target { get; set; }
    public string? OtherTarget { get; set; }
    public int GenerateTokens { get; set; } = 8;
    public int Seed { get; set; } = 1;
    public double NearTieThreshold { get; set; } = WorkbenchOptions.DefaultNearTieThreshold;
    public List<InterventionDraft> Drafts { get; } = [];

    /// <summary>Per draft, why it cannot run on the session's model (null when it can).</summary>
    public IReadOnlyList<string?> Errors { get; private set; } = [];

    /// <summary>Runs only when every switched-on draft is valid.</summary>
    public bool CanRun => Errors.Select((e, i) => (e, i)).All(x => x.e is null || !Drafts[x.i].Enabled);

    public CompareView? View { get; private set; }

    /// <summary>Counts comparisons shown; the views mark themselves drawn with it.</summary>
    public int RunNumber { get; private set; }

    public bool Busy { get; private set; }
    public string Status { get; private set; } = "";

    /// <summary>What the running work waits for (its place in the queue, a model load), or null.</summary>
    public ModelWait? Wait { get; private set; }

    public string? SaveName { get; set; }
    public string? LoadName { get; set; }
    public IReadOnlyList<string> SavedNames { get; private set; } = [];

    /// <summary>The experiment as JSON for the download link, after a run or a save.</summary>
    public string? DownloadJson { get; private set; }

    /// <summary>The page address that brings this experiment back (after a run, save or load), or null to leave it.</summary>
    public string? Address { get; private set; }

    public SweepKind SweepKind { get; set; } = SweepKind.Positions;
    public SweepKind SweepShownKind { get; private set; }
    public SweepView? Sweep { get; private set; }
    public int SweepNumber { get; private set; }
    public bool Sweeping => sweepCancellation is not null;
    public PatchingProgress SweepProgress { get; private set; }

    public DumpSide? DumpA { get; private set; }
    public DumpSide? DumpB { get; private set; }

    /// <summary>Raised (on any thread) when the state changed and the page should draw again.</summary>
    public event Action? Changed;

    /// <summary>A message for the user: the text and whether it reports an error.</summary>
    public event Action<string, bool>? Message;

    /// <summary>Restores the experiment the page address names (a saved name, or the experiment itself), once per page visit.</summary>
    public void Restore(string? savedName, string? experimentToken)
    {
        SavedNames = store.List();
        try
        {
            if (!string.IsNullOrEmpty(savedName)) Apply(store.Load(savedName), savedName);
            else if (!string.IsNullOrEmpty(experimentToken)) Apply(Experiment.FromUrlToken(experimentToken), null);
        }
        catch (Exception e) when (e is ArgumentException or IOException or InterventionException)
        {
            Message?.Invoke($"Could not restore the experiment from the address: {e.Message}", true);
        }
        Validate();
    }

    public void Validate()
    {
        Errors = comparer.Validate(Drafts, SessionModel.Model?.Config);
        Changed?.Invoke();
    }

    /// <summary>The experiment as it stands, switched-off and invalid entries included.</summary>
    public Experiment Experiment => Experiment.Of(Prompt, SourcePrompt, Blank(Target), Blank(OtherTarget), Drafts);

    /// <summary>Runs baseline and modified once each on the session's model and shows them; the address then keeps the experiment.</summary>
    public async Task RunAsync()
    {
        Validate();
        if (!CanRun)
        {
            Message?.Invoke("Fix the interventions marked in red first: nothing runs with a half-valid experiment.", true);
            return;
        }
        await Work(async () =>
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            using var lease = await SessionModel.AcquireAsync(Waits());
            View = await comparer.CompareAsync(lease, new CompareRequest(Prompt, Drafts, SourcePrompt, Blank(Target), Blank(OtherTarget),
                GenerateTokens, Seed, NearTieThreshold));
            RunNumber++;
            Status = $"{View.TokenLabels.Length} tokens · {View.Descriptions.Length} intervention(s) · model {lease.Model.Name} · {started.ElapsedMilliseconds} ms";
            KeepInAddress(Experiment, null);
        });
    }

    public async Task RunSweepAsync()
    {
        sweepCancellation = new CancellationTokenSource();
        SweepProgress = default;
        var kind = SweepKind;
        var progress = new ActionProgress<PatchingProgress>(p =>
        {
            SweepProgress = p;
            Changed?.Invoke();
        });
        await Work(async () =>
        {
            try
            {
                using var lease = await SessionModel.AcquireAsync(Waits(), sweepCancellation.Token);
                Sweep = await comparer.SweepAsync(lease, SourcePrompt ?? "", Prompt, kind, Target ?? "", Blank(OtherTarget), progress, sweepCancellation.Token);
                SweepShownKind = kind;
                SweepNumber++;
                Status = $"sweep done: {Sweep.Heatmap.Recovery.Length} layers × {Sweep.ColumnLabels.Length} {Sweep.Heatmap.ColumnKind}s";
            }
            catch (OperationCanceledException)
            {
                Status = "sweep cancelled";
            }
        });
        sweepCancellation.Dispose();
        sweepCancellation = null;
        Changed?.Invoke();
    }

    public void CancelSweep() => sweepCancellation?.Cancel();

    /// <summary>A clicked sweep cell becomes a patch in the experiment, and both runs are compared with it.</summary>
    public async Task AddPatchFromSweepAsync((int Layer, int Column) cell)
    {
        if (Sweep is null) return;
        Drafts.Add(Sweep.PatchOf(cell.Layer, cell.Column));
        Validate();
        await RunAsync();
    }

    /// <summary>A clicked routing cell fills the last expert intervention's layer, position and expert.</summary>
    public void FillFromRouting((int Layer, int Token, int Expert) cell)
    {
        var draft = Drafts.LastOrDefault(d => d.Kind is InterventionKind.AblateExpert or InterventionKind.BanExpert or InterventionKind.ForceExpert);
        if (draft is null)
        {
            Message?.Invoke("Add an expert intervention (ablate, ban or force) first; clicking a cell fills its targets.", false);
            return;
        }
        draft.Layers = $"{cell.Layer}";
        draft.Expert = $"{cell.Expert}";
        if (draft.Kind == InterventionKind.ForceExpert) draft.Positions = $"{cell.Token}";
        Validate();
    }

    /// <summary>Saves the experiment on the server under <see cref="SaveName"/>, exactly as it stands (no model needed).</summary>
    public void Save() => Guard(() =>
    {
        var name = SaveName?.Trim() ?? "";
        var experiment = Experiment;
        store.Save(name, experiment);
        SavedNames = store.List();
        KeepInAddress(experiment, name);
        Status = $"saved “{name}”";
    });

    public void LoadSaved() => Guard(() =>
    {
        if (LoadName is not { } name) return;
        Apply(store.Load(name), name);
        Address = $"/compare?saved={Uri.EscapeDataString(name)}";
        Status = $"loaded “{name}”";
    });

    /// <summary>Reads an uploaded experiment file.</summary>
    public void Upload(string json, string fileName) => Guard(() =>
    {
        Apply(Experiment.FromJson(json), Path.GetFileNameWithoutExtension(fileName));
        Status = $"loaded {fileName}";
    });

    /// <summary>A dump of two or more runs (e.g. a downloaded comparison) becomes A and B at once; otherwise it fills <paramref name="side"/>.</summary>
    public void DumpOpened(OpenedDump dump, char side)
    {
        if (dump.Runs.Count >= 2)
        {
            SetDumps(new DumpSide(dump, dump.Runs[0]), new DumpSide(dump, dump.Runs[1]));
            Message?.Invoke($"Dump {dump.Name} holds {dump.Runs.Count} runs: {dump.Runs[0].Id} is A and {dump.Runs[1].Id} is B (change them in the selects).", false);
        }
        else if (side == 'A') SetDumps(new DumpSide(dump, dump.Runs[0]), DumpB);
        else SetDumps(DumpA, new DumpSide(dump, dump.Runs[0]));
        Changed?.Invoke();
    }

    public void SelectRun(char side, string runId)
    {
        var current = (side == 'A' ? DumpA : DumpB)!;
        var chosen = new DumpSide(current.Dump, current.Dump.Runs.First(r => r.Id == runId));
        if (side == 'A') DumpA = chosen;
        else DumpB = chosen;
        Changed?.Invoke();
    }

    public async Task CompareDumpsAsync()
    {
        if (DumpA is not { } a || DumpB is not { } b) return;
        await Work(async () =>
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            View = await comparer.CompareDumpsAsync(a, b, NearTieThreshold);
            RunNumber++;
            Status = $"dumps compared: {View.TokenLabels.Length} tokens · {started.ElapsedMilliseconds} ms";
        });
    }

    /// <summary>The session switched models: a comparison of the previous model no longer matches the editor's checks.</summary>
    public void ModelSwitched()
    {
        if (View?.Model is not null) View = null;
        Validate();
    }

    private void Apply(Experiment experiment, string? name)
    {
        Prompt = experiment.Prompt;
        SourcePrompt = experiment.SourcePrompt;
        Target = experiment.Target;
        OtherTarget = experiment.OtherTarget;
        Drafts.Clear();
        Drafts.AddRange(experiment.Drafts.Select(d => d.Clone()));
        SaveName = name ?? SaveName;
        Validate();
    }

    /// <summary>The address keeps the experiment, so a reload or a shared link comes back to it; the JSON link offers it.</summary>
    private void KeepInAddress(Experiment experiment, string? savedName)
    {
        DownloadJson = experiment.ToJson();
        Address = savedName is null ? $"/compare?e={experiment.ToUrlToken()}" : $"/compare?saved={Uri.EscapeDataString(savedName)}";
    }

    private IProgress<ModelWait> Waits() => new ActionProgress<ModelWait>(wait =>
    {
        Wait = wait.Kind == ModelWaitKind.Running ? null : wait;
        Changed?.Invoke();
    });

    private static string? Blank(string? text) => string.IsNullOrEmpty(text) ? null : text;

    /// <summary>Sets both sides and closes any dump neither side uses any more.</summary>
    private void SetDumps(DumpSide? a, DumpSide? b)
    {
        foreach (var old in new[] { DumpA?.Dump, DumpB?.Dump }.Distinct())
            if (old is not null && old != a?.Dump && old != b?.Dump) old.Dispose();
        (DumpA, DumpB) = (a, b);
    }

    /// <summary>Runs page work with the busy flag; a refused input or failed run becomes a message, the page keeps working.</summary>
    private async Task Work(Func<Task> work)
    {
        Busy = true;
        Changed?.Invoke();
        try
        {
            await work();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InterventionException)
        {
            Message?.Invoke(e.Message, true);
            Status = "failed: " + e.Message;
        }
        finally
        {
            Busy = false;
            Wait = null;
            Changed?.Invoke();
        }
    }

    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is ArgumentException or IOException or InterventionException)
        {
            Message?.Invoke(e.Message, true);
            Status = "failed: " + e.Message;
        }
        Changed?.Invoke();
    }

    public void Dispose()
    {
        sweepCancellation?.Cancel();
        SetDumps(null, null);
    }
}
