namespace GrokLens.Analysis.Experts;

/// <summary>An analysis result: a plain record (serialise it with <see cref="ExpertJson"/>) that also lists its tables.</summary>
public interface IExpertResult
{
    /// <summary>The result in long-format tables, e.g. for a grid or CSV export.</summary>
    IReadOnlyList<ResultTable> Tables();
}
