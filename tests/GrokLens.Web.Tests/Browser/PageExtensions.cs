using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

public static class PageExtensions
{
    /// <summary>
    /// Waits until <paramref name="expression"/> is truthy, checked on a timer every <paramref name="pollingMs"/> ms. Never
    /// Playwright's default animation-frame polling: a busy headless page can stop producing frames, and with them both the
    /// checks and the wait's own timeout stop (a test then hangs instead of failing).
    /// </summary>
    public static Task<IJSHandle> WaitUntilAsync(this IPage page, string expression, object? arg = null, int pollingMs = 50) =>
        page.WaitForFunctionAsync(expression, arg, new PageWaitForFunctionOptions { PollingInterval = pollingMs });

    /// <summary>
    /// The whole page from its top: a click lower down may have scrolled it, and a scrolled page draws the fixed app bar
    /// in the middle of a full-page screenshot.
    /// </summary>
    public static async Task FullPageAsync(this IPage page, string path)
    {
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
    }

    /// <summary>
    /// Chooses <paramref name="file"/> in a Blazor <c>InputFile</c> once its script has wired the change handler (it sets
    /// <c>_blazorInputFileNextFileId</c> then); a file set before that, on a just-opened dialog of a busy page, is never seen.
    /// </summary>
    public static async Task UploadAsync(this IPage page, string selector, string file)
    {
        await page.WaitUntilAsync("s => document.querySelector(s)?._blazorInputFileNextFileId !== undefined", selector);
        await page.Locator(selector).SetInputFilesAsync(file);
    }
}
