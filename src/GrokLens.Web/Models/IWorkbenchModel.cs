using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Model;
using GrokLens.Tokenization;
using GrokLens.Web.Services;

namespace GrokLens.Web.Models;

/// <summary>
/// A model as the workbench's services use it: what it is (name and file identity, config, tokenizer, hook names, the
/// panel's facts, weight memory) and its two entry points, a piece of work and a streamed generation, both queued on the
/// server's <see cref="ComputeQueue"/>. Services reach the entry points through a <see cref="ModelLease"/>, which keeps
/// the model resident. <see cref="LocalModel"/> queues work on any <see cref="IModelEngine"/>: a <see cref="LoadedModel"/>
/// in this process, or a model whose layers run on a cluster.
/// </summary>
public interface IWorkbenchModel
{
    string Name { get; }
    ModelIdentity Identity { get; }
    GrokConfig Config { get; }

    /// <summary>Null for a model without one: its prompts are typed as token ids (<see cref="PromptInput"/>).</summary>
    ITokenizer? Tokenizer { get; }

    IReadOnlyList<string> HookNames { get; }
    ModelInfo Info { get; }

    /// <summary>Bytes its weights hold (all devices): what counts against the registry's memory budget.</summary>
    long MemoryBytes { get; }

    /// <summary>Runs <paramref name="work"/> on the model at its turn in the queue; <paramref name="wait"/> hears the place meanwhile.</summary>
    Task<T> RunAsync<T>(Func<IModelEngine, T> work, IProgress<ModelWait>? wait, CancellationToken cancellation);

    /// <summary>
    /// Continues <paramref name="prompt"/> token by token, each step queued on its own, so generations and runs of other
    /// sessions interleave with it instead of waiting for it to end.
    /// </summary>
    IAsyncEnumerable<GeneratedToken> GenerateAsync(IReadOnlyList<int> prompt, SamplingOptions sampling, IProgress<ModelWait>? wait,
        CancellationToken cancellation);
}
