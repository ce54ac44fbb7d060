using GrokLens.Engine;
using GrokLens.Formatting;
using GrokLens.Loading;
using GrokLens.Web.Services;

namespace GrokLens.Web.Models;

/// <summary>
/// The models resident on this server, shared by every session, within a memory budget for their weights. A session
/// leases the model it works with (<see cref="AcquireAsync"/> by name, <see cref="LeaseAsync"/> for the model a result came
/// from); loading a model first unloads the least recently used models that nobody leases, and waits for leases to end
/// when the budget holds only leased models. A leased model is never unloaded. One load per model runs at a time: a
/// second session asking for a model being loaded waits for the same load.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private readonly object gate = new();
    private readonly Dictionary<string, LocalModel> resident = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingLoad> loading = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> loadErrors = new(StringComparer.Ordinal);
    private readonly ComputeQueue queue;
    private readonly Func<string, string, IProgress<LoadProgress>, IModelEngine> load;
    private readonly ILogger<ModelRegistry> logger;
    private TaskCompletionSource memoryFreed = NewSignal();
    private long clock;

    /// <param name="load">
    /// Loads (name, folder) reporting progress: <see cref="ModelLoader.Load"/> (in this process) unless given another, e.g.
    /// one that opens a model served by a cluster.
    /// </param>
    public ModelRegistry(ModelCatalog catalog, ComputeQueue queue, long budgetBytes, ILogger<ModelRegistry> logger,
        Func<string, string, IProgress<LoadProgress>, IModelEngine>? load = null)
    {
        if (budgetBytes <= 0) throw new ArgumentOutOfRangeException(nameof(budgetBytes), "the model memory budget must be positive.");
        Catalog = catalog;
        this.queue = queue;
        BudgetBytes = budgetBytes;
        this.logger = logger;
        this.load = load ?? ((name, folder, progress) => catalog.Cluster is { } cluster && ClusterModels.IsClusterName(name)
            ? cluster.Open(name) // Its layers stay on the silos: nothing to read here.
            : ModelLoader.Load(folder, new LoadOptions { Name = name, Progress = progress }));
    }

    public ModelCatalog Catalog { get; }
    public long BudgetBytes { get; }
    public ComputeQueue Queue => queue;

    /// <summary>Raised (on any thread) when a model starts or finishes loading, is unloaded, or is leased or returned.</summary>
    public event Action? Changed;

    /// <summary>Default budget: half the memory this process may use (physical memory, or the container's limit).</summary>
    public static long DefaultBudget() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    /// <summary>Resident and loading models, most recently used first, for the model panel.</summary>
    public IReadOnlyList<ResidentModelState> Snapshot()
    {
        lock (gate)
        {
            return resident.Values.OrderByDescending(m => m.LastUsed)
                .Select(m => new ResidentModelState(m.Name, m.MemoryBytes, m.Leases, queue.WaitingFor(m), null, null))
                .Concat(loading.Values.Select(p => new ResidentModelState(p.Name, p.Reserved, 0, 0, p.Fraction, p.WaitingFor)))
                .ToList();
        }
    }

    /// <summary>Bytes held by resident models' weights plus what loads in progress have reserved.</summary>
    public long UsedBytes
    {
        get
        {
            lock (gate) return Used();
        }
    }

    /// <summary>Why the last load of a model failed (cleared when it loads), for the model panel.</summary>
    public string? LoadError(string name)
    {
        lock (gate) return loadErrors.GetValueOrDefault(name);
    }

    /// <summary>
    /// A lease on the resident model of that name, loading it first when it is not resident. <paramref name="wait"/>
    /// hears the load's progress or the wait for memory, and later the lease's queue places.
    /// </summary>
    public async Task<ModelLease> AcquireAsync(string name, IProgress<ModelWait>? wait = null, CancellationToken cancellation = default)
    {
        PendingLoad? pending;
        string? refused = null;
        lock (gate)
        {
            if (resident.TryGetValue(name, out var model)) return Lease(model, wait);
            if (!loading.TryGetValue(name, out pending))
            {
                try
                {
                    var folder = Catalog.Resolve(name); // a name outside the catalogue fails here, before anything starts
                    pending = new PendingLoad(name);
                    loading[name] = pending;
                    loadErrors.Remove(name);
                    pending.Task = Task.Run(() => LoadAsync(pending, folder));
                }
                catch (ArgumentException e)
                {
                    refused = loadErrors[name] = e.Message;
                }
            }
            if (pending is not null)
            {
                pending.Listeners.Add(wait);
                pending.Waiters++;
            }
        }
        Changed?.Invoke();
        if (pending is null) throw new ArgumentException(refused);
        try
        {
            var loaded = await pending.Task.WaitAsync(cancellation);
            return new ModelLease(loaded, () => Release(loaded), wait); // the load handed this waiter one lease (see Complete)
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            lock (gate)
            {
                pending.Listeners.Remove(wait);
                if (!pending.Completed) pending.Waiters--;
                else if (pending.Task.IsCompletedSuccessfully) ReleaseLocked(pending.Task.Result); // the lease it was handed
            }
            throw;
        }
    }

    /// <summary>The resident model of that name, or null (nothing is loaded or leased): for showing its facts.</summary>
    public IWorkbenchModel? Peek(string name)
    {
        lock (gate) return resident.GetValueOrDefault(name);
    }

    /// <summary>
    /// A lease on the model a result was made with: the same object while it is resident, else a reload of its name,
    /// refused when its files changed since (<see cref="ModelChangedException"/>).
    /// </summary>
    public async Task<ModelLease> LeaseAsync(IWorkbenchModel bound, IProgress<ModelWait>? wait = null, CancellationToken cancellation = default)
    {
        lock (gate)
        {
            if (bound is LocalModel model && resident.TryGetValue(model.Name, out var current) && current == model) return Lease(model, wait);
        }
        var lease = await AcquireAsync(bound.Name, wait, cancellation);
        if (lease.Model.Identity == bound.Identity) return lease;
        lease.Dispose();
        throw new ModelChangedException(
            $"The files of model '{bound.Name}' changed since this result was made (it was unloaded meanwhile): run it again to use the new files.");
    }

    /// <summary>A lease on a resident model that satisfies <paramref name="match"/> (most recently used first), or null; nothing is loaded.</summary>
    public ModelLease? LeaseResident(Func<LocalModel, bool> match, IProgress<ModelWait>? wait = null)
    {
        List<LocalModel> candidates;
        lock (gate) candidates = resident.Values.OrderByDescending(m => m.LastUsed).ToList();
        // The match may read files (a weights fingerprint): outside the lock, then leased only if still resident.
        foreach (var model in candidates.Where(match))
            lock (gate)
                if (resident.TryGetValue(model.Name, out var current) && current == model)
                    return Lease(model, wait);
        return null;
    }

    private ModelLease Lease(LocalModel model, IProgress<ModelWait>? wait)
    {
        model.Leases++;
        model.LastUsed = ++clock;
        _ = Task.Run(() => Changed?.Invoke());
        return new ModelLease(model, () => Release(model), wait);
    }

    private void Release(LocalModel model)
    {
        lock (gate) ReleaseLocked(model);
        Changed?.Invoke();
    }

    private void ReleaseLocked(LocalModel model)
    {
        model.Leases--;
        model.LastUsed = ++clock;
        if (model.Leases == 0) Signal();
    }

    private async Task<LocalModel> LoadAsync(PendingLoad pending, string folder)
    {
        IModelEngine? loaded = null;
        try
        {
            // A cluster model's weights stay on its silos: nothing counts against this server's budget.
            bool remote = Catalog.Cluster is not null && ClusterModels.IsClusterName(pending.Name);
            long need = remote ? 0 : ModelMemoryEstimate.Of(folder);
            if (need > BudgetBytes)
                throw new ModelTooLargeException($"Model '{pending.Name}' needs ≈ {ByteSize.Format(need)} for its weights; the server's model memory " +
                                                 $"budget is {ByteSize.Format(BudgetBytes)} (setting {WorkbenchOptions.Section}:{nameof(WorkbenchOptions.ModelMemoryBudget)}).");
            await MakeRoomAsync(pending, need);
            var identity = remote ? null : ModelIdentity.Of(pending.Name, folder);
            var progress = new ActionProgress<LoadProgress>(p =>
            {
                pending.Fraction = p.Fraction;
                Report(pending, new ModelWait(pending.Name, ModelWaitKind.Loading, Fraction: p.Fraction));
            });
            Report(pending, new ModelWait(pending.Name, ModelWaitKind.Loading));
            loaded = load(pending.Name, folder, progress);
            identity ??= new ModelIdentity(pending.Name, loaded.WeightFiles().Fingerprint ?? "cluster"); // The silos' weights.
            var model = new LocalModel(loaded, identity, queue);
            Complete(pending, model, null);
            if (UsedBytes > BudgetBytes)
                logger.LogWarning("Model {Name} took {Memory}, more than estimated: resident models exceed the budget until one is unloaded",
                    pending.Name, ByteSize.Format(model.MemoryBytes));
            logger.LogInformation("Loaded model {Name} from {Folder}: {Memory}", pending.Name, folder, ByteSize.Format(model.MemoryBytes));
            return model;
        }
        catch (Exception e)
        {
            loaded?.Dispose();
            Complete(pending, null, e);
            logger.LogError(e, "Loading model {Name} failed", pending.Name);
            throw;
        }
    }

    /// <summary>
    /// Reserves <paramref name="need"/> bytes for a load: unloads idle models, least recently used first, until the
    /// reservation fits the budget; while only leased models are left to unload, waits for a lease to end.
    /// </summary>
    private async Task MakeRoomAsync(PendingLoad pending, long need)
    {
        while (true)
        {
            var unload = new List<LocalModel>();
            Task freed;
            lock (gate)
            {
                foreach (var idle in resident.Values.Where(m => m.Leases == 0).OrderBy(m => m.LastUsed).ToList())
                {
                    if (Used() + need <= BudgetBytes) break;
                    resident.Remove(idle.Name);
                    unload.Add(idle);
                }
                bool fits = Used() + need <= BudgetBytes;
                if (fits) pending.Reserved = need;
                pending.WaitingFor = fits ? null : resident.Values.Select(m => m.Name).Order(StringComparer.Ordinal).ToList();
                freed = memoryFreed.Task;
            }
            foreach (var model in unload)
            {
                model.Dispose();
                logger.LogInformation("Unloaded model {Name} (least recently used) to make room for {Loading}", model.Name, pending.Name);
            }
            if (pending.WaitingFor is null) return;
            Report(pending, new ModelWait(pending.Name, ModelWaitKind.WaitingForMemory, InUse: pending.WaitingFor));
            await freed;
        }
    }

    private void Complete(PendingLoad pending, LocalModel? model, Exception? error)
    {
        lock (gate)
        {
            loading.Remove(pending.Name);
            pending.Completed = true;
            if (model is not null)
            {
                resident[pending.Name] = model;
                model.Leases = pending.Waiters; // one lease for each session waiting on this load
                model.LastUsed = ++clock;
                if (model.Leases == 0) Signal();
            }
            else
            {
                loadErrors[pending.Name] = error!.Message;
                Signal(); // its reservation is free again
            }
        }
        Changed?.Invoke();
    }

    private void Report(PendingLoad pending, ModelWait wait)
    {
        List<IProgress<ModelWait>?> listeners;
        lock (gate) listeners = [.. pending.Listeners];
        foreach (var listener in listeners) listener?.Report(wait);
        Changed?.Invoke();
    }

    private long Used() => resident.Values.Sum(m => m.MemoryBytes) + loading.Values.Sum(p => p.Reserved);

    /// <summary>Wakes loads waiting for memory (under the lock).</summary>
    private void Signal()
    {
        var signal = memoryFreed;
        memoryFreed = NewSignal();
        signal.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var model in resident.Values) model.Dispose();
            resident.Clear();
        }
    }

    private sealed class PendingLoad(string name)
    {
        public string Name { get; } = name;
        public Task<LocalModel> Task { get; set; } = null!;
        public List<IProgress<ModelWait>?> Listeners { get; } = [];
        public int Waiters { get; set; }
        public bool Completed { get; set; }
        public long Reserved { get; set; }
        public double Fraction { get; set; }
        public IReadOnlyList<string>? WaitingFor { get; set; }
    }
}

/// <summary>A resident (or loading) model as the model panel lists it.</summary>
public sealed record ResidentModelState(string Name, long Bytes, int Leases, int Queued, double? LoadingFraction, IReadOnlyList<string>? WaitingForMemory)
{
    public bool IsLoading => LoadingFraction is not null;
}

/// <summary>A model whose weights alone exceed the server's memory budget.</summary>
public sealed class ModelTooLargeException(string message) : InvalidOperationException(message);

/// <summary>A result's model was unloaded and its files changed before it was needed again.</summary>
public sealed class ModelChangedException(string message) : InvalidOperationException(message);
