using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Loading;
using GrokLens.Web.Models;
using GrokLens.Web.Services;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrokLens.Web.Tests.Models;

/// <summary>
/// The registry over three copies of tests/fixtures/grok1-mini ("a", "b", "c") with a budget for two of them: which model
/// is unloaded, that a leased one never is, that a load waits for a lease to end, and that a result's model comes back.
/// </summary>
public sealed class ModelRegistryTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("groklens-registry-").FullName;
    private readonly long modelBytes;
    private readonly List<string> loads = [];

    public ModelRegistryTests()
    {
        foreach (var name in new[] { "a", "b", "c" })
        {
            var copy = Directory.CreateDirectory(Path.Combine(folder, name)).FullName;
            foreach (var file in new[] { "config.json", "model.safetensors" })
                File.Copy(Path.Combine(TestRepository.Root, "tests", "fixtures", "grok1-mini", file), Path.Combine(copy, file));
        }
        modelBytes = ModelMemoryEstimate.Of(Path.Combine(folder, "a"));
    }

    /// <summary>A registry whose budget holds <paramref name="models"/> models, counting the loads it makes.</summary>
    private ModelRegistry Registry(double models) =>
        new(new ModelCatalog(folder), new ComputeQueue(1), (long)(models * modelBytes), NullLogger<ModelRegistry>.Instance, (name, path, progress) =>
        {
            lock (loads) loads.Add(name);
            return ModelLoader.Load(path, new LoadOptions { Name = name, Progress = progress });
        });

    private static int Length(IModelEngine model)
    {
        using var run = model.Run([4, 5, 6]);
        return run.Logits.shape[0] == 3 ? run.TokenIds.Count : -1;
    }

    private static string[] Resident(ModelRegistry registry) => [.. registry.Snapshot().Where(m => !m.IsLoading).Select(m => m.Name).Order()];

    [Fact]
    public async Task TheEstimateBeforeLoadingIsTheMemoryTheWeightsTake()
    {
        using var registry = Registry(3);
        using var a = await registry.AcquireAsync("a");
        Assert.Equal(modelBytes, a.Model.MemoryBytes);

        using var tiny = ModelFixture.NewRegistry(TestRepository.ModelsFolder);
        using var model = await tiny.AcquireAsync(TestRepository.ModelName);
        Assert.Equal(ModelMemoryEstimate.Of(Path.Combine(TestRepository.ModelsFolder, TestRepository.ModelName)), model.Model.MemoryBytes);
    }

    [Fact]
    public async Task LoadingAThirdModelUnloadsTheLeastRecentlyUsedIdleOne()
    {
        using var registry = Registry(2.5);
        using (await registry.AcquireAsync("a")) { }
        using (await registry.AcquireAsync("b")) { }
        using (await registry.AcquireAsync("a")) { }   // a is now used more recently than b
        using (await registry.AcquireAsync("c")) { }

        Assert.Equal(["a", "c"], Resident(registry));
        Assert.True(registry.UsedBytes <= registry.BudgetBytes);
        using (await registry.AcquireAsync("b")) { }   // b loads again; a (last used before c) makes room
        Assert.Equal(["b", "c"], Resident(registry));
        Assert.Equal(["a", "b", "c", "b"], loads);
    }

    [Fact]
    public async Task ALeasedModelIsNeverUnloadedAndALoadWaitsForALeaseToEnd()
    {
        using var registry = Registry(2.5);
        var a = await registry.AcquireAsync("a");
        var b = await registry.AcquireAsync("b");
        var waits = new List<ModelWait>();
        var c = registry.AcquireAsync("c", new ActionProgress<ModelWait>(w => { lock (waits) waits.Add(w); }));

        // Both resident models are in use: c waits for memory, and says which models hold it.
        await WaitUntil(registry, () => registry.Snapshot().Any(m => m.Name == "c" && m.WaitingForMemory is not null));
        Assert.False(c.IsCompleted);
        lock (waits) Assert.Contains(waits, w => w.Kind == ModelWaitKind.WaitingForMemory && w.InUse!.SequenceEqual(["a", "b"]));
        Assert.Equal(3, await a.RunAsync(Length)); // a still runs

        b.Dispose();
        using var leaseC = await c;
        Assert.Equal(["a", "c"], Resident(registry));
        Assert.Equal(3, await a.RunAsync(Length)); // a was never unloaded
        a.Dispose();
    }

    [Fact]
    public async Task AGenerationKeepsItsModelWhileAnotherLoadsAndLosesNoToken()
    {
        using var registry = Registry(1.5);
        var sampling = new SamplingOptions { MaxNewTokens = 12, Temperature = 0.8, Seed = 3 };
        int[] prompt = [5, 17, 300, 42];
        using var alone = Registry(1.5);
        List<int> solo = [];
        using (var lease = await alone.AcquireAsync("a"))
            await foreach (var token in lease.GenerateAsync(prompt, sampling)) solo.Add(token.Id);

        var generating = await registry.AcquireAsync("a");
        var tokens = new List<int>();
        await using var stream = generating.GenerateAsync(prompt, sampling).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync());
        tokens.Add(stream.Current.Id);

        // b needs a's memory: it waits while the generation holds its lease, and the generation goes on to the end.
        var b = registry.AcquireAsync("b");
        await WaitUntil(registry, () => registry.Snapshot().Any(m => m.Name == "b" && m.WaitingForMemory is not null));
        while (await stream.MoveNextAsync()) tokens.Add(stream.Current.Id);
        Assert.False(b.IsCompleted);
        Assert.Equal(solo, tokens);

        generating.Dispose();
        using var leaseB = await b;
        Assert.Equal(["b"], Resident(registry));
    }

    [Fact]
    public async Task SessionsAskingForTheSameModelShareOneLoad()
    {
        using var registry = Registry(3);
        var leases = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => registry.AcquireAsync("a")));
        Assert.Equal(["a"], loads);
        Assert.All(leases, l => Assert.Same(leases[0].Model, l.Model));
        Assert.Equal(4, registry.Snapshot().Single().Leases);
        foreach (var lease in leases) lease.Dispose();
        Assert.Equal(0, registry.Snapshot().Single().Leases);
    }

    [Fact]
    public async Task AResultsModelComesBackAfterItWasUnloadedUnlessItsFilesChanged()
    {
        using var registry = Registry(1.5);
        IWorkbenchModel bound;
        using (var a = await registry.AcquireAsync("a")) bound = a.Model;
        using (await registry.AcquireAsync("b")) { }       // a is unloaded to make room

        using (var again = await registry.LeaseAsync(bound))
        {
            Assert.NotSame(bound, again.Model);              // a reload of the same files
            Assert.Equal(bound.Identity, again.Model.Identity);
        }
        using (await registry.AcquireAsync("b")) { }
        File.SetLastWriteTimeUtc(Path.Combine(folder, "a", "model.safetensors"), DateTime.UtcNow.AddMinutes(1));
        var changed = await Assert.ThrowsAsync<ModelChangedException>(() => registry.LeaseAsync(bound));
        Assert.Contains("The files of model 'a' changed", changed.Message);
    }

    [Fact]
    public async Task ModelsAreRunOnlyUnderALeaseAndTooLargeOrUnknownOnesAreRefused()
    {
        using var registry = Registry(0.5);
        var tooLarge = await Assert.ThrowsAsync<ModelTooLargeException>(() => registry.AcquireAsync("a"));
        Assert.Contains("GrokLens:ModelMemoryBudget", tooLarge.Message);
        Assert.Equal(tooLarge.Message, registry.LoadError("a"));
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => registry.AcquireAsync("../a"));
        Assert.Contains("is not a model name", unknown.Message);

        using var roomy = Registry(1.5);
        IWorkbenchModel model;
        using (var lease = await roomy.AcquireAsync("a")) model = lease.Model;
        await Assert.ThrowsAsync<InvalidOperationException>(() => model.RunAsync(m => 0, null, default));
    }

    /// <summary>Waits for a state another task reaches (e.g. a load waiting for memory), re-checked whenever the registry changes.</summary>
    private static async Task WaitUntil(ModelRegistry registry, Func<bool> condition)
    {
        using var changed = new SemaphoreSlim(0);
        void OnChanged() => changed.Release();
        registry.Changed += OnChanged;
        try
        {
            while (!condition())
                if (!await changed.WaitAsync(TimeSpan.FromMinutes(2)))
                    throw new TimeoutException("the registry never reached the state");
        }
        finally
        {
            registry.Changed -= OnChanged;
        }
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
