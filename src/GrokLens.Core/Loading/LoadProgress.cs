namespace GrokLens.Loading;

/// <summary>Progress of loading a model: the tensor just loaded and how many of how many are done.</summary>
public readonly record struct LoadProgress(string Tensor, int Done, int Total)
{
    public double Fraction => Total == 0 ? 1 : (double)Done / Total;
}
