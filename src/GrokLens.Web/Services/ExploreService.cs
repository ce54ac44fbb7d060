using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Interventions;
using GrokLens.Web.Models;
using GrokLens.Web.Views;

namespace GrokLens.Web.Services;

/// <summary>
/// What the Explore page asks of a model: read the prompt, analyse a sequence (optionally with interventions), stream a
/// generation, read one hook's values. Every call names the model through a lease, so the work runs on the model the
/// session chose (or the one its result came from), queued on the server's <see cref="ComputeQueue"/>.
/// </summary>
public sealed class ExploreService
{
    /// <summary>The prompt's tokens (text, or token ids for a model without a tokenizer); refuses an empty or too long one.</summary>
    public IReadOnlyList<int> Tokenize(IWorkbenchModel model, string prompt) => PromptInput.Encode(model, prompt);

    /// <summary>The sequence's tokens as the strip shows them (the model's token text, or "#id" without a tokenizer).</summary>
    public IReadOnlyList<TokenView> Labels(IWorkbenchModel model, IReadOnlyList<int> tokenIds)
    {
        var text = ExploreResultBuilder.Text(model.Tokenizer);
        return TokenLabels.Build(tokenIds, tokenIds.Select(text).ToArray(), tokenIds.Count);
    }

    /// <summary>Runs the sequence once, capturing what the views need, and builds their arrays.</summary>
    public Task<ExploreResult> AnalyseAsync(ModelLease model, IReadOnlyList<int> tokenIds, int generatedFrom,
        IReadOnlyList<Intervention>? interventions = null, CancellationToken cancellation = default) =>
        model.RunAsync(loaded =>
        {
            cancellation.ThrowIfCancellationRequested();
            var options = new RunOptions { Capture = ExploreResultBuilder.RequiredHooks(loaded.Config) };
            using var run = interventions is { Count: > 0 }
                ? InterventionRunner.Run(loaded, tokenIds, interventions, options)
                : loaded.Run(tokenIds, options);
            return ExploreResultBuilder.Build(loaded, run, generatedFrom);
        }, cancellation);

    /// <summary>The values of one hook over the sequence (flattened), for the histogram.</summary>
    public Task<float[]> HookValuesAsync(ModelLease model, IReadOnlyList<int> tokenIds, string hookName, CancellationToken cancellation = default)
    {
        if (!model.Model.HookNames.Contains(hookName))
            throw new ArgumentException($"Hook '{hookName}' does not exist in model '{model.Model.Name}'.");
        return model.RunAsync(loaded =>
        {
            using var run = loaded.Run(tokenIds, RunOptions.CaptureOnly(hookName));
            using var values = run.Cache[hookName].to_type(TorchSharp.torch.ScalarType.Float32).flatten();
            return values.data<float>().ToArray();
        }, cancellation);
    }

    /// <summary>
    /// Streams generated tokens as they are chosen; each token's forward pass takes its own turn in the queue, so other
    /// sessions' work interleaves. Stops within a token when <paramref name="cancellation"/> fires.
    /// </summary>
    public async IAsyncEnumerable<TokenView> GenerateAsync(ModelLease model, IReadOnlyList<int> prompt, SamplingOptions sampling,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation = default)
    {
        sampling.Validated();
        var text = ExploreResultBuilder.Text(model.Model.Tokenizer);
        await foreach (var token in model.GenerateAsync(prompt, sampling, cancellation))
        {
            var display = text(token.Id);
            yield return new TokenView(token.Position, token.Id, display, display, true);
        }
    }
}

/// <summary>A prompt the workbench refuses (empty, too long); the message is meant for the user.</summary>
public sealed class PromptException(string message) : ArgumentException(message);
