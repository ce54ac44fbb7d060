using Microsoft.JSInterop;

namespace GrokLens.Web.Services;

/// <summary>The page helpers of wwwroot/workbench.js, called from components.</summary>
public static class WorkbenchScript
{
    /// <summary>Puts the caret back in the prompt after a run (unless the user moved to another field); nothing if the page is gone.</summary>
    public static async Task RefocusAsync(this IJSRuntime js, string selector)
    {
        try
        {
            await js.InvokeVoidAsync("groklens.refocus", selector);
        }
        catch (JSDisconnectedException)
        {
            // The circuit closed while the run ended: there is no page to focus.
        }
    }

    /// <summary>Keeps a scrolled list at its end (the token strip while tokens stream in).</summary>
    public static async Task FollowEndAsync(this IJSRuntime js, Microsoft.AspNetCore.Components.ElementReference element)
    {
        try
        {
            await js.InvokeVoidAsync("groklens.followEnd", element);
        }
        catch (JSDisconnectedException)
        {
            // The page is gone.
        }
    }
}
