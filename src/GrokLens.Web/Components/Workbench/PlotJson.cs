using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Plotly.Blazor;

namespace GrokLens.Web.Components.Workbench;

/// <summary>
/// Plotly.Blazor's figure objects as the JSON plotly.js reads: property names from their attributes, nulls left out,
/// each trace by its own type (so its "type" and trace-specific properties are written). NaN and ±∞, which JSON
/// cannot hold, are written as null: plotly.js draws a gap there.
/// </summary>
public static class PlotJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Base64 typed arrays are full of '+', which the default encoder would write as \u002B.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters =
        {
            new NonFiniteAsNull<double>(double.IsFinite, (writer, value) => writer.WriteNumberValue(value)),
            new NonFiniteAsNull<float>(float.IsFinite, (writer, value) => writer.WriteNumberValue(value)),
        },
    };

    /// <summary>Writes a non-finite number as null (a gap in plotly.js), finite ones as the type writes them.</summary>
    private sealed class NonFiniteAsNull<T>(Func<T, bool> isFinite, Action<Utf8JsonWriter, T> write) : JsonConverter<T>
    {
        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            if (isFinite(value)) write(writer, value);
            else writer.WriteNullValue();
        }

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("Figures are only written, never read back.");
    }

    public static string Traces(IEnumerable<ITrace> traces) =>
        "[" + string.Join(",", traces.Select(trace => JsonSerializer.Serialize(trace, trace.GetType(), Options))) + "]";

    public static string Of<T>(T value) where T : class => JsonSerializer.Serialize(value, value.GetType(), Options);
}
