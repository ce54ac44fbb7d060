using GrokLens.Web.Models;
using GrokLens.Web.Services;
using GrokLens.Web.Views;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrokLens.Web.Tests;

/// <summary>
/// grok-tiny resident in a <see cref="ModelRegistry"/> and leased for the fixture's lifetime, plus one analysed prompt,
/// shared by the non-browser tests.
/// </summary>
public sealed class ModelFixture : IAsyncLifetime
{
    public const string Prompt = "the cat sat on the mat and the dog sat on the log";

    public ModelRegistry Registry { get; private set; } = null!;

    /// <summary>grok-tiny, leased until the fixture ends.</summary>
    public ModelLease Model { get; private set; } = null!;

    public ExploreService Service { get; } = new();
    public IReadOnlyList<int> TokenIds { get; private set; } = [];
    public ExploreResult Result { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        TestRepository.RequireModel();
        Registry = NewRegistry(TestRepository.ModelsFolder);
        Model = await Registry.AcquireAsync(TestRepository.ModelName);
        TokenIds = Service.Tokenize(Model.Model, Prompt);
        Result = await Service.AnalyseAsync(Model, TokenIds, TokenIds.Count);
    }

    /// <summary>A registry over a models folder with a budget large enough for every test model, one compute slot.</summary>
    public static ModelRegistry NewRegistry(string modelsFolder, long budgetBytes = 1L << 30) =>
        new(new ModelCatalog(modelsFolder), new ComputeQueue(1), budgetBytes, NullLogger<ModelRegistry>.Instance);

    /// <summary>The dump service over the fixture's registry, as the app wires it (dumps folder: the temporary folder unless given).</summary>
    public DumpService DumpService(string? dumpsFolder = null, long maxUploadBytes = 200L << 20) =>
        new(Registry, new DumpCatalog(dumpsFolder ?? Path.GetTempPath()),
            Microsoft.Extensions.Options.Options.Create(new WorkbenchOptions { MaxDumpUploadBytes = maxUploadBytes }));

    public CompareService CompareService() => new(DumpService());

    public Task DisposeAsync()
    {
        Model.Dispose();
        Registry.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class ModelCollection : ICollectionFixture<ModelFixture>
{
    public const string Name = "model";
}
