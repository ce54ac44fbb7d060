using GrokLens.Web.Compare;
using GrokLens.Web.Components;
using GrokLens.Web.Experts;
using GrokLens.Web.Models;
using GrokLens.Web.Security;
using GrokLens.Web.Services;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

// The web root is wwwroot/ at the repository root (shared with docs and tools), not inside this project.
var repositoryRoot = RepositoryLocator.FindRoot(
    Environment.GetEnvironmentVariable("GROKLENS__REPOSITORYROOT"), Directory.GetCurrentDirectory(), AppContext.BaseDirectory);
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    WebRootPath = Path.Combine(repositoryRoot, "wwwroot"),
});
// Package assets (_content/MudBlazor, _content/Plotly.Blazor) come from the static web assets manifest in every
// environment when running from a build output; published apps carry them in their own wwwroot.
builder.WebHost.UseStaticWebAssets();

// Localhost only unless an address is configured (--urls, ASPNETCORE_URLS or Kestrel settings).
if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
    builder.WebHost.UseUrls("http://127.0.0.1:5000");

builder.Services.Configure<WorkbenchOptions>(builder.Configuration.GetSection(WorkbenchOptions.Section));
builder.Services.PostConfigure<WorkbenchOptions>(o =>
{
    if (string.IsNullOrEmpty(o.ModelsFolder)) o.ModelsFolder = Path.Combine(repositoryRoot, "models");
    if (string.IsNullOrEmpty(o.ExperimentsFolder)) o.ExperimentsFolder = Path.Combine(repositoryRoot, "experiments");
});
builder.Services.AddSingleton(sp => new ClusterModels(sp.GetRequiredService<IOptions<WorkbenchOptions>>().Value.Cluster));
builder.Services.AddSingleton(sp => new ModelCatalog(sp.GetRequiredService<IOptions<WorkbenchOptions>>().Value.ModelsFolder,
    sp.GetRequiredService<ClusterModels>()));
builder.Services.AddSingleton(sp => new ComputeQueue(sp.GetRequiredService<IOptions<WorkbenchOptions>>().Value.ComputeSlots is > 0 and var slots
    ? slots : ComputeQueue.DefaultSlots()));
builder.Services.AddSingleton(sp =>
{
    var budget = sp.GetRequiredService<IOptions<WorkbenchOptions>>().Value.ModelMemoryBudget;
    return new ModelRegistry(sp.GetRequiredService<ModelCatalog>(), sp.GetRequiredService<ComputeQueue>(),
        string.IsNullOrWhiteSpace(budget) ? ModelRegistry.DefaultBudget() : WorkbenchOptions.ParseBudget(budget),
        sp.GetRequiredService<ILogger<ModelRegistry>>());
});
builder.Services.AddScoped<SessionModel>();
builder.Services.AddSingleton<ExploreService>();
builder.Services.AddSingleton<CompareService>();
builder.Services.AddSingleton(sp => new ExperimentStore(sp.GetRequiredService<IOptions<WorkbenchOptions>>().Value.ExperimentsFolder));
builder.Services.AddHostedService<DefaultModelLoader>();
builder.Services.AddHostedService<TemporarySweeper>();
builder.Services.PostConfigure<WorkbenchOptions>(o =>
{
    if (string.IsNullOrEmpty(o.DumpsFolder)) o.DumpsFolder = Path.Combine(repositoryRoot, "dumps");
});
builder.Services.AddSingleton(sp => new DumpCatalog(sp.GetRequiredService<IOptions<WorkbenchOptions>>().Value.DumpsFolder));
builder.Services.AddSingleton<DumpService>();
builder.Services.AddSingleton(sp => new DumpDownloads(TimeProvider.System));
builder.Services.AddScoped<PlotInterop>();
builder.Services.AddExpertsPage(builder.Configuration, repositoryRoot);
builder.Services.AddScoped(sp => new ExploreSession
{
    NearTieThreshold = sp.GetRequiredService<IOptions<WorkbenchOptions>>().Value.NearTieThreshold,
});
builder.Services.AddScoped<CompareSession>();

// No exception details in the browser, in any environment (they are in the server's log).
builder.Services.AddRazorComponents().AddInteractiveServerComponents(o => o.DetailedErrors = false)
    // A long pasted prompt travels in one message: room for PromptLimits.MaxCharacters of any text.
    .AddHubOptions(o => o.MaximumReceiveMessageSize = PromptLimits.HubMessageBytes);
builder.Services.AddMudServices();
// A stop closes the circuits' connections and takes no new ones (UseStoppingGate); whatever is left after 5 s is cut.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

var app = builder.Build();
app.UseWorkbenchErrors();
app.UseStoppingGate();
app.UseSecurityHeaders();
app.UseOriginCheck(app.Configuration.GetSection($"{WorkbenchOptions.Section}:{nameof(WorkbenchOptions.AllowedOrigins)}").Get<string[]>() ?? []);
// The repository's wwwroot is served before routing: MapStaticAssets' development handler would otherwise take these
// files (they are not in the project's build manifest) and log a warning for every request of one.
app.UseStaticFiles();
app.UseRouting();
app.UseSessionCookie();
app.UseAntiforgery();
app.MapStaticAssets();
app.MapDumpEndpoints();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Lifetime.ApplicationStarted.Register(() =>
{
    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
    foreach (var address in addresses) Console.WriteLine($"GrokLens workbench: {address}");
});

app.Run();

/// <summary>Entry point, public for WebApplicationFactory in the tests.</summary>
public partial class Program;
