using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Plotly.Blazor;

namespace GrokLens.Web.Components.Workbench;

/// <summary>
/// Plotly.Blazor's figure objects as the JSON plotly.js reads: property names from their attributes, nulls left out,
/// each trace by its own type (so its "type" and trace-specific properties are written).
/// </summary>
public static class PlotJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Base64 typed arrays are full of '+', which the default encoder would write as \u002B.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Traces(IEnumerable<ITrace> traces) =>
        "[" + string.Join(",", traces.Select(trace => JsonSerializer.Serialize(trace, trace.GetType(), Options))) + "]";

    public static string Of<T>(T value) where T : class => JsonSerializer.Serialize(value, value.GetType(), Options);
}
