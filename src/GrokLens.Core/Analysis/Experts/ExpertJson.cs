using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// JSON for expert analysis results: snake_case names, arrays per layer (a row of numbers on one line, so that 64 layers
/// × 8 experts stay readable), and numbers that are not finite (an undefined share, a correlation of constant columns)
/// written as null.
/// </summary>
public static class ExpertJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters =
        {
            new FiniteDoubleConverter(), new OneLineArray<long>(), new OneLineArray<int>(), new OneLineArray<double>(), new OneLineArray<double?>(),
            new RowPerLine<long>(), new RowPerLine<double>(), new RowPerLine<double?>(),
            new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower),
        },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>A number array written compactly on one line; read as usual.</summary>
    private sealed class OneLineArray<T> : JsonConverter<T[]>
    {
        private static readonly JsonSerializerOptions Compact = new() { Converters = { new FiniteDoubleConverter() } };

        public override T[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonSerializer.Deserialize<T[]>(ref reader, Compact);

        public override void Write(Utf8JsonWriter writer, T[] value, JsonSerializerOptions options) =>
            writer.WriteRawValue(JsonSerializer.Serialize(value, Compact), skipInputValidation: true);
    }

    /// <summary>A matrix written one row per line, each row compact.</summary>
    private sealed class RowPerLine<T> : JsonConverter<T[][]>
    {
        private static readonly JsonSerializerOptions Compact = new() { Converters = { new FiniteDoubleConverter() } };

        public override T[][]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonSerializer.Deserialize<T[][]>(ref reader, Compact);

        public override void Write(Utf8JsonWriter writer, T[][] value, JsonSerializerOptions options)
        {
            string indent = new(' ', 2 * (writer.CurrentDepth + 1));
            var rows = value.Select(row => indent + JsonSerializer.Serialize(row, Compact));
            writer.WriteRawValue("[\n" + string.Join(",\n", rows) + "\n" + indent[2..] + "]", skipInputValidation: true);
        }
    }

    private sealed class FiniteDoubleConverter : JsonConverter<double>
    {
        public override bool HandleNull => true;

        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
