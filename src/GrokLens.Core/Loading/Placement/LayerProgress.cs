namespace GrokLens.Loading.Placement;

/// <summary>A streamed layer became ready: which, how long its read took, and how many bytes it read.</summary>
public readonly record struct LayerProgress(int Layer, int NumLayers, long Bytes, TimeSpan ReadTime, TimeSpan WaitTime);
