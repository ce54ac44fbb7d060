using GrokLens.Web.Components;
using GrokLens.Web.Experts;
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
builder.Services.AddSingleton(sp => new ModelCatalog(sp.GetRequiredService<IOptions<WorkbenchOptions>>().Value.ModelsFolder));
builder.Services.AddSingleton<ModelHost>();
builder.Services.AddSingleton<ExploreService>();
builder.Services.AddSingleton<CompareService>();
builder.Services.AddSingleton(sp => new ExperimentStore(sp.GetRequiredService<IOptions<WorkbenchOptions>>().Value.ExperimentsFolder));
builder.Services.AddHostedService<DefaultModelLoader>();
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

// A pasted prompt set (Experts page) travels in one circuit message: SignalR's default 32 KB would drop the circuit.
builder.Services.AddRazorComponents().AddInteractiveServerComponents().AddHubOptions(o => o.MaximumReceiveMessageSize = 4L << 20);
builder.Services.AddMudServices();

var app = builder.Build();
if (!app.Environment.IsDevelopment())
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
app.UseAntiforgery();
app.UseStaticFiles();
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
