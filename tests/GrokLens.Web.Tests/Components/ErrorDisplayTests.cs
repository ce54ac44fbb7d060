using Bunit;
using GrokLens.Web.Components.Pages;
using GrokLens.Web.Models;
using GrokLens.Web.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;

namespace GrokLens.Web.Tests.Components;

/// <summary>The Explore page against a host with no model (a models folder that does not exist): refusals and failures reach the snackbar.</summary>
public sealed class ErrorDisplayTests : MudTestContext
{
    private readonly string emptyModels = Path.Combine(Path.GetTempPath(), $"groklens-no-models-{Guid.NewGuid():N}");
    private readonly ExploreSession session = new();

    public ErrorDisplayTests()
    {
        var registry = ModelFixture.NewRegistry(emptyModels);
        var options = Microsoft.Extensions.Options.Options.Create(new WorkbenchOptions());
        Services.AddSingleton(registry);
        Services.AddSingleton(new SessionModel(registry, options));
        Services.AddSingleton(new ExploreService());
        Services.AddSingleton(session);
        Services.AddSingleton(new DumpService(registry, new DumpCatalog(emptyModels), options));
        Services.AddSingleton(new DumpDownloads(TimeProvider.System));
    }

    private IRenderedComponent<Microsoft.AspNetCore.Components.IComponent> RenderPage() => Render(builder =>
    {
        builder.OpenComponent<MudPopoverProvider>(0);
        builder.CloseComponent();
        builder.OpenComponent<MudSnackbarProvider>(1);
        builder.CloseComponent();
        builder.OpenComponent<Explore>(2);
        builder.CloseComponent();
    });

    [Fact]
    public void EmptyPromptIsRefusedPolitely()
    {
        session.Prompt = "   ";
        var page = RenderPage();

        page.Find("#run-button").Click();

        page.WaitForAssertion(() => Assert.Contains("The prompt is empty: type some text first.", page.Markup));
        Assert.Empty(page.FindAll("[data-view=router-grid]"));
    }

    [Fact]
    public void ModelFailureIsShownAndThePageStaysUsable()
    {
        session.Prompt = "hello";
        var page = RenderPage();

        page.Find("#run-button").Click();

        // The session's model (the default, grok-tiny) is not in the models folder: the run says so, and so does the panel.
        page.WaitForAssertion(() => Assert.Contains($"Model error: No model 'grok-tiny' in the models folder", page.Markup));
        page.WaitForAssertion(() => Assert.False(page.Find("#run-button").HasAttribute("disabled")));
        page.WaitForAssertion(() => Assert.Contains($"No model 'grok-tiny' in the models folder", page.Find("#model-error").TextContent));
    }
}
