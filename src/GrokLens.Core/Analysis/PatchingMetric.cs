using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace GrokLens.Analysis;

[JsonConverter(typeof(JsonStringEnumConverter<PatchingMetricKind>))]
public enum PatchingMetricKind
{
    /// <summary>logit(token) − logit(other token) at the last position (IOI-style).</summary>
    LogitDifference,
    /// <summary>Probability of the token at the last position.</summary>
    Probability,
}

/// <summary>The number an activation-patching sweep tracks, read from the last position's logits.</summary>
public sealed record PatchingMetric(PatchingMetricKind Kind, int Token, int? OtherToken = null)
{
    public static PatchingMetric LogitDifference(int token, int otherToken) => new(PatchingMetricKind.LogitDifference, token, otherToken);

    public static PatchingMetric Probability(int token) => new(PatchingMetricKind.Probability, token);

    public string Describe() => Kind == PatchingMetricKind.LogitDifference
        ? $"logit({Token}) − logit({OtherToken}) at the last position"
        : $"p({Token}) at the last position";

    public void Validate(int vocabSize)
    {
        if (Kind == PatchingMetricKind.LogitDifference && OtherToken is null)
            throw new ArgumentException("a logit-difference metric needs a second token.");
        foreach (int? id in new[] { (int?)Token, OtherToken })
            if (id is int t && (t < 0 || t >= vocabSize))
                throw new ArgumentException($"metric token {t} is outside the vocabulary 0…{vocabSize - 1}.");
    }

    /// <summary>The metric of logits [T, V].</summary>
    public double Evaluate(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var last = logits[-1].to_type(ScalarType.Float64);
        return Kind == PatchingMetricKind.LogitDifference
            ? (last[Token] - last[OtherToken!.Value]).item<double>()
            : last.softmax(-1)[Token].item<double>();
    }
}
