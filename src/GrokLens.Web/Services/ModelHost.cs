using GrokLens.Engine;
using GrokLens.Loading;

namespace GrokLens.Web.Services;

/// <summary>
/// Owns the one loaded model of the server and serialises all work on it: a forward pass, a generation or a model
/// switch runs alone (one at a time, in arrival order), so one user's long run never interleaves with another's.
/// </summary>
public sealed class ModelHost(ModelCatalog catalog, ILogger<ModelHost> logger) : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private LoadedModel? model;

    public ModelCatalog Catalog { get; } = catalog;
    public ModelInfo? Info { get; private set; }

    /// <summary>Configuration of the loaded model (for validating interventions without queueing).</summary>
    public GrokLens.Model.GrokConfig? Config { get; private set; }

    /// <summary>Name of the model being loaded and the fraction done, while a load runs.</summary>
    public (string Name, double Fraction)? Loading { get; private set; }

    /// <summary>Last load failure, shown in the model panel.</summary>
    public string? LoadError { get; private set; }

    /// <summary>Raised (on a worker thread) when loading progresses, finishes or fails.</summary>
    public event Action? Changed;

    /// <summary>Runs work on the loaded model once every earlier piece of work has finished.</summary>
    public async Task<T> UseAsync<T>(Func<LoadedModel, T> work, CancellationToken cancellation = default)
    {
        await gate.WaitAsync(cancellation);
        try
        {
            var current = model ?? throw new InvalidOperationException(
                LoadError is null ? "No model is loaded yet." : $"No model is loaded: {LoadError}");
            return await Task.Run(() => work(current), cancellation);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Loads a model of the catalogue by folder name and replaces the current one once it has loaded.</summary>
    public async Task LoadAsync(string name, CancellationToken cancellation = default)
    {
        await gate.WaitAsync(cancellation);
        try
        {
            Loading = (name, 0);
            LoadError = null;
            Changed?.Invoke();
            var folder = Catalog.Resolve(name);
            var progress = new SyncProgress(p =>
            {
                cancellation.ThrowIfCancellationRequested();
                Loading = (name, p.Fraction);
                Changed?.Invoke();
            });
            var loaded = await Task.Run(() => ModelLoader.Load(folder, new LoadOptions { Progress = progress }), cancellation);
            var previous = model;
            model = loaded;
            Info = ModelInfo.From(loaded);
            Config = loaded.Config;
            previous?.Dispose();
            logger.LogInformation("Loaded model {Name} from {Folder}", name, loaded.Source);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LoadError = $"could not load '{name}': {e.Message}";
            logger.LogError(e, "Loading model {Name} failed", name);
            throw;
        }
        finally
        {
            Loading = null;
            gate.Release();
            Changed?.Invoke();
        }
    }

    public void Dispose()
    {
        model?.Dispose();
        gate.Dispose();
    }

    /// <summary>Reports on the loading thread (Progress&lt;T&gt; would post to a captured context).</summary>
    private sealed class SyncProgress(Action<LoadProgress> report) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value) => report(value);
    }
}
