using Microsoft.JSInterop;

namespace GrokLens.Web.Components.Experts;

/// <summary>Hands bytes made on the server to the browser as a file download (wwwroot/experts.js).</summary>
public static class ExpertDownload
{
    public static async Task SaveAsync(IJSRuntime js, string fileName, string contentType, byte[] bytes)
    {
        await using var module = await js.InvokeAsync<IJSObjectReference>("import", "./experts.js");
        using var stream = new DotNetStreamReference(new MemoryStream(bytes));
        await module.InvokeVoidAsync("saveFile", fileName, contentType, stream);
    }

    /// <summary>A table or analysis name as a file name: letters, digits, '-' and '_' kept, the rest '_'.</summary>
    public static string FileName(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
}
