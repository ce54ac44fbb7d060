using GrokLens.Engine;
using GrokLens.Model;
using GrokLens.Tokenization;

namespace GrokLens.Web.Experts;

/// <summary>
/// The model an Experts-page analysis runs on: its facts, and one queued piece of work at a time. Each prompt of a
/// corpus is its own piece of work, so other sessions' runs interleave with a long analysis instead of waiting for it.
/// </summary>
public interface IExpertsModel
{
    string Name { get; }
    GrokConfig Config { get; }
    ITokenizer? Tokenizer { get; }

    /// <summary>Runs <paramref name="work"/> on the model at its turn in the workbench's queue.</summary>
    Task<T> RunAsync<T>(Func<IModelEngine, T> work, CancellationToken cancellation);
}
