using System.Text.Json;
using System.Text.Json.Serialization;
using GrokLens.Web.Views;
using Plotly.Blazor;
using Plotly.Blazor.Traces;

namespace GrokLens.Web.Components.Workbench;

/// <summary>
/// A Plotly heatmap whose z is sent as a typed array instead of nested JSON number arrays: it is written as
/// <see cref="Heatmap"/> with <see cref="Z"/> as its z.
/// </summary>
[JsonConverter(typeof(TypedHeatMapConverter))]
public sealed class TypedHeatMap(HeatMap heatmap, TypedArray z) : ITrace
{
    /// <summary>Every heatmap property except z.</summary>
    public HeatMap Heatmap { get; } = heatmap;

    public TypedArray Z { get; } = z;

    public TraceTypeEnum? Type => Heatmap.Type;

    private sealed class TypedHeatMapConverter : JsonConverter<TypedHeatMap>
    {
        public override void Write(Utf8JsonWriter writer, TypedHeatMap value, JsonSerializerOptions options)
        {
            var json = JsonSerializer.SerializeToNode(value.Heatmap, options)!.AsObject();
            json["z"] = JsonSerializer.SerializeToNode(value.Z, options);
            json.WriteTo(writer, options);
        }

        public override TypedHeatMap Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("Figures are only written, never read back.");
    }
}
