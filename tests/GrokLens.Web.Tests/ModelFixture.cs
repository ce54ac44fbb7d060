using GrokLens.Web.Services;
using GrokLens.Web.Views;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrokLens.Web.Tests;

/// <summary>grok-tiny loaded once behind a <see cref="ModelHost"/>, plus one analysed prompt, shared by the non-browser tests.</summary>
public sealed class ModelFixture : IAsyncLifetime
{
    public const string Prompt = "the cat sat on the mat and the dog sat on the log";

    public ModelHost Host { get; private set; } = null!;
    public ExploreService Service { get; private set; } = null!;
    public IReadOnlyList<int> TokenIds { get; private set; } = [];
    public ExploreResult Result { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        TestRepository.RequireModel();
        Host = new ModelHost(new ModelCatalog(TestRepository.ModelsFolder), NullLogger<ModelHost>.Instance);
        await Host.LoadAsync(TestRepository.ModelName);
        Service = new ExploreService(Host);
        TokenIds = await Service.TokenizeAsync(Prompt);
        Result = await Service.AnalyseAsync(TokenIds, TokenIds.Count);
    }

    /// <summary>The dump service over the fixture's host, as the app wires it (dumps folder: the temporary folder unless given).</summary>
    public DumpService DumpService(string? dumpsFolder = null, long maxUploadBytes = 200L << 20) =>
        new(Host, new DumpCatalog(dumpsFolder ?? Path.GetTempPath()),
            Microsoft.Extensions.Options.Options.Create(new WorkbenchOptions { MaxDumpUploadBytes = maxUploadBytes }));

    public CompareService CompareService() => new(Host, DumpService());

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class ModelCollection : ICollectionFixture<ModelFixture>
{
    public const string Name = "model";
}
