using GrokLens.Hooks;

namespace GrokLens.Model;

/// <summary>A layer's full hook names, built once so the forward pass never formats strings.</summary>
public sealed class LayerHookNames(int layer)
{
    public int Layer { get; } = layer;
    public string ResidPre { get; } = HookPoints.Layer(layer, HookPoints.ResidPre);
    public string AttnInput { get; } = HookPoints.Layer(layer, HookPoints.AttnInput);
    public string Q { get; } = HookPoints.Layer(layer, HookPoints.Q);
    public string K { get; } = HookPoints.Layer(layer, HookPoints.K);
    public string V { get; } = HookPoints.Layer(layer, HookPoints.V);
    public string AttnScoresRaw { get; } = HookPoints.Layer(layer, HookPoints.AttnScoresRaw);
    public string AttnScores { get; } = HookPoints.Layer(layer, HookPoints.AttnScores);
    public string AttnScoresTempered { get; } = HookPoints.Layer(layer, HookPoints.AttnScoresTempered);
    public string Pattern { get; } = HookPoints.Layer(layer, HookPoints.Pattern);
    public string Z { get; } = HookPoints.Layer(layer, HookPoints.Z);
    public string Result { get; } = HookPoints.Layer(layer, HookPoints.Result);
    public string AttnOut { get; } = HookPoints.Layer(layer, HookPoints.AttnOut);
    public string AttnOutNormed { get; } = HookPoints.Layer(layer, HookPoints.AttnOutNormed);
    public string ResidMid { get; } = HookPoints.Layer(layer, HookPoints.ResidMid);
    public string MoeInput { get; } = HookPoints.Layer(layer, HookPoints.MoeInput);
    public string RouterLogits { get; } = HookPoints.Layer(layer, HookPoints.RouterLogits);
    public string RouterLogitsCapped { get; } = HookPoints.Layer(layer, HookPoints.RouterLogitsCapped);
    public string RouterProbs { get; } = HookPoints.Layer(layer, HookPoints.RouterProbs);
    public string TopKIndices { get; } = HookPoints.Layer(layer, HookPoints.TopKIndices);
    public string TopKWeights { get; } = HookPoints.Layer(layer, HookPoints.TopKWeights);
    public string ExpertPre { get; } = HookPoints.Layer(layer, HookPoints.ExpertPre);
    public string ExpertPost { get; } = HookPoints.Layer(layer, HookPoints.ExpertPost);
    public string ExpertOut { get; } = HookPoints.Layer(layer, HookPoints.ExpertOut);
    public string MoeOut { get; } = HookPoints.Layer(layer, HookPoints.MoeOut);
    public string MlpPre { get; } = HookPoints.Layer(layer, HookPoints.MlpPre);
    public string MlpPost { get; } = HookPoints.Layer(layer, HookPoints.MlpPost);
    public string MlpOut { get; } = HookPoints.Layer(layer, HookPoints.MlpOut);
    public string FfnOut { get; } = HookPoints.Layer(layer, HookPoints.FfnOut);
    public string MoeOutNormed { get; } = HookPoints.Layer(layer, HookPoints.MoeOutNormed);
    public string ResidPost { get; } = HookPoints.Layer(layer, HookPoints.ResidPost);
}
