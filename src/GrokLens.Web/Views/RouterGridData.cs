namespace GrokLens.Web.Views;

/// <summary>One cell of the router grid: a token in a layer, its chosen experts with gate weights and the near-tie flag.</summary>
public sealed record RouterCell(int Layer, int Token, int[] Experts, float[] Gates, RouterDecision Decision)
{
    public int FirstExpert => Experts[0];

    public string Tooltip(string tokenLabel) =>
        $"layer {Layer} · {tokenLabel}\n" +
        string.Join("\n", Experts.Select((e, s) => $"expert {e}: gate {Gates[s]:0.000}")) +
        $"\nmargin to next {Decision.Margin:0.000}{(Decision.NearTie ? " (near-tie)" : "")}";
}

/// <summary>Builds the layers × tokens router grid from a result.</summary>
public static class RouterGridData
{
    public static RouterCell[][] Build(ExploreResult result, double nearTieThreshold) =>
        Enumerable.Range(0, result.Layers).Select(layer =>
            Enumerable.Range(0, result.Length).Select(token => new RouterCell(layer, token,
                result.ChosenExperts[layer][token], result.GateWeights[layer][token],
                RouterDecision.From(result.RouterProbs[layer][token], result.TopK, nearTieThreshold))).ToArray()).ToArray();
}
