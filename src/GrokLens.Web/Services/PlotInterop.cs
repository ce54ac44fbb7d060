using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace GrokLens.Web.Services;

/// <summary>The browser side of the plots (wwwroot/plot-view.js), imported once per circuit.</summary>
public sealed class PlotInterop(IJSRuntime js) : IAsyncDisposable
{
    private Task<IJSObjectReference>? module;

    private Task<IJSObjectReference> Module => module ??= js.InvokeAsync<IJSObjectReference>("import", "./plot-view.js").AsTask();

    /// <summary>
    /// Draws (or redraws in place) a figure given as plotly.js JSON; completes once Plotly has drawn it. Clicks on a
    /// heatmap cell call <paramref name="clicks"/>' [JSInvokable] CellClicked(row, column) when given.
    /// </summary>
    public async Task DrawAsync(ElementReference element, string data, string layout, string config, object? clicks = null) =>
        await (await Module).InvokeVoidAsync("draw", element, data, layout, config, clicks);

    public async Task PurgeAsync(ElementReference element) => await (await Module).InvokeVoidAsync("purge", element);

    public async ValueTask DisposeAsync()
    {
        if (module is null) return;
        try
        {
            await (await module).DisposeAsync();
        }
        catch (Exception e) when (e is JSDisconnectedException or OperationCanceledException)
        {
            // The circuit is gone (or closing and cancelling its calls); so is the module.
        }
    }
}
