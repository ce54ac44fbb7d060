using GrokLens.Dumps;
using GrokLens.Generation;
using GrokLens.Model;
using GrokLens.Tokenization;
using static TorchSharp.torch;

namespace GrokLens.Engine;

/// <summary>
/// A model that can be run and inspected, wherever its layers live: in this process (<see cref="LoadedModel"/>) or spread
/// over the silos of a cluster (GrokLens.Cluster). The CLI, the workbench, the analysis library and the notebooks use
/// this interface; both implementations give the same float32 results. Captures, JSON interventions (with a source run
/// for patching), generation with a KV cache and batch runs work everywhere; C# hook functions
/// (<see cref="RunOptions.Hooks"/>) only in-process.
/// </summary>
public interface IModelEngine : IDisposable
{
    string Name { get; }

    GrokConfig Config { get; }

    /// <summary>The model's tokenizer, or null when it takes token ids only.</summary>
    ITokenizer? Tokenizer { get; }

    /// <summary>Every hook point name of the model, in forward order.</summary>
    IReadOnlyList<string> HookNames { get; }

    /// <summary>Where each layer range runs: one entry in-process, one per shard on a cluster.</summary>
    IReadOnlyList<LayerPlacement> Placement { get; }

    /// <summary>Resolves capture patterns to hook names, with a clear error listing close matches for a miss.</summary>
    IReadOnlyList<string> ResolveHooks(IEnumerable<string> patterns);

    /// <summary>Encodes text with the model's tokenizer (no BOS).</summary>
    IReadOnlyList<int> Encode(string text);

    /// <summary>Checks a sequence before any work: not empty, within the context, ids inside the vocabulary.</summary>
    void CheckSequence(IReadOnlyList<int> tokenIds);

    /// <summary>Runs one sequence and returns its logits [T, V] and the requested activations (batch dimension removed).</summary>
    RunResult Run(IReadOnlyList<int> tokenIds, RunOptions? options = null);

    /// <summary>
    /// Runs many sequences with the same options and yields their results in the order given (a cluster runs them on
    /// several pipeline replicas at once and retries a prompt whose replica failed). The caller disposes each result.
    /// </summary>
    IEnumerable<RunResult> RunMany(IEnumerable<IReadOnlyList<int>> prompts, RunOptions options, CancellationToken cancellation = default);

    /// <summary>Continues a prompt with a KV cache, streaming each token as it is chosen (see <see cref="TextGenerator"/>).</summary>
    IEnumerable<GeneratedToken> Generate(IReadOnlyList<int> prompt, SamplingOptions options, GenerationRequest? request = null,
        CancellationToken cancellation = default);

    /// <summary>
    /// Residuals [N, D] read as the model reads its last one: final RMSNorm, unembedding, output multiplier and Grok-2's
    /// final soft-cap (<see cref="GrokModel.Logits"/>). Logits [N, V] on the CPU (the logit lens).
    /// </summary>
    Tensor ReadOut(Tensor residual);

    /// <summary>
    /// The weights fingerprint and each weight file's (for dump manifests: docs/dump-format.md, "Weights fingerprint");
    /// null and empty for generated weights.
    /// </summary>
    (string? Fingerprint, IReadOnlyList<DumpWeightFile> Files) WeightFiles();
}
